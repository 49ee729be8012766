// schedule "round-robin": the master accepts and deals connections to workers in turn.
import { scheduleSuite } from "./suite.js";

scheduleSuite("round-robin");
