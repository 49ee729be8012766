// `--name value` flags for the baseline servers (no dependency, no validation beyond what they need).
export function flag(name, fallback) {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

/** Prints the listening line the bench reads, and closes on SIGTERM/SIGINT. */
export function serve(server, name, model, host, port) {
  server.listen({ host, port, backlog: 4096 }, () => {
    const a = server.address();
    process.stdout.write(`${name} listening on ${a.address}:${a.port} (model ${model}, pid ${process.pid})\n`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections?.();
    // Open client connections would keep close() waiting: the bench stops us between runs.
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
