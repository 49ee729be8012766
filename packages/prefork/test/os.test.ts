// schedule "os": every worker accepts on the shared socket and the kernel picks.
import { scheduleSuite } from "./suite.js";

scheduleSuite("os");
