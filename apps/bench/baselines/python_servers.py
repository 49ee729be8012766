#!/usr/bin/env python3
"""The article's server models, written for measurement: the same echo semantics as every echo
model (echo every byte of a persistent connection until the client closes), standard library only.

    python3 python_servers.py --model tcpserver|threading|multiprocessing|selectors
                              [--host H] [--port P] [--mode echo|cpu] [--workers N]

  tcpserver        socketserver.TCPServer: one connection at a time (the article's socketserver)
  threading        socketserver.ThreadingTCPServer: a thread per connection
  multiprocessing  N processes (default 20, as in the article) all accept()ing on one socket,
                   each serving one connection at a time
  selectors        a non-blocking readiness loop over selectors.DefaultSelector (epoll here),
                   with output buffered per connection and write interest only while it is pending

--mode cpu spends about 1 ms of this thread's CPU time per received chunk before echoing it.
Prints `python-MODEL listening on HOST:PORT (model MODEL, pid PID)` once listening and exits on
SIGTERM/SIGINT.
"""
import argparse
import multiprocessing
import os
import selectors
import signal
import socket
import socketserver
import sys
import time

CPU_SECONDS = 0.001


def burn():
    """Spends CPU_SECONDS of this thread's own CPU time (not wall time: preemption is not work)."""
    end = time.thread_time() + CPU_SECONDS
    x = 1
    while time.thread_time() < end:
        for i in range(200):
            x = (x * 1103515245 + i) & 0xFFFFFFFF
    return x


def announce(model, sock):
    host, port = sock.getsockname()[:2]
    sys.stdout.write(f"python-{model} listening on {host}:{port} (model {model}, pid {os.getpid()})\n")
    sys.stdout.flush()


def serve_blocking(conn, cpu):
    """Echo on a blocking socket until the client closes: the body of every blocking model."""
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            if cpu:
                burn()
            try:
                conn.sendall(data)
            except OSError:
                return


def make_handler(cpu):
    class EchoHandler(socketserver.BaseRequestHandler):
        def handle(self):
            serve_blocking(self.request, cpu)

        def finish(self):
            pass

    return EchoHandler


def run_socketserver(server_class, model, host, port, cpu):
    server_class.allow_reuse_address = True
    server_class.request_queue_size = 4096
    server_class.daemon_threads = True
    with server_class((host, port), make_handler(cpu)) as server:
        announce(model, server.socket)
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        server.serve_forever()


def worker(listener, cpu):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    while True:
        conn, _ = listener.accept()
        serve_blocking(conn, cpu)


def run_multiprocessing(host, port, cpu, workers):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(4096)
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=worker, args=(listener, cpu), daemon=True) for _ in range(workers)]
    for p in procs:
        p.start()
    announce("multiprocessing", listener)

    def stop(*_):
        for p in procs:
            p.terminate()
        for p in procs:
            p.join(2)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        signal.pause()


def run_selectors(host, port, cpu):
    sel = selectors.DefaultSelector()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(4096)
    listener.setblocking(False)
    sel.register(listener, selectors.EVENT_READ, None)
    announce("selectors", listener)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    pending = {}  # conn -> bytearray of output the kernel has not taken yet

    def close(conn):
        sel.unregister(conn)
        pending.pop(conn, None)
        conn.close()

    while True:
        for key, mask in sel.select():
            if key.data is None:
                while True:
                    try:
                        conn, _ = listener.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        break  # out of descriptors: leave the rest in the backlog
                    conn.setblocking(False)
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    sel.register(conn, selectors.EVENT_READ, True)
                continue
            conn = key.fileobj
            if mask & selectors.EVENT_READ:
                try:
                    data = conn.recv(65536)
                except (BlockingIOError, InterruptedError):
                    data = None
                except OSError:
                    close(conn)
                    continue
                if data == b"":
                    close(conn)
                    continue
                if data:
                    if cpu:
                        burn()
                    out = pending.get(conn)
                    if out:
                        out += data
                    else:
                        try:
                            sent = conn.send(data)
                        except (BlockingIOError, InterruptedError):
                            sent = 0
                        except OSError:
                            close(conn)
                            continue
                        if sent < len(data):
                            # Keep the rest, stop reading until it drains (backpressure).
                            pending[conn] = bytearray(data[sent:])
                            sel.modify(conn, selectors.EVENT_WRITE, True)
            if mask & selectors.EVENT_WRITE:
                out = pending.get(conn)
                try:
                    sent = conn.send(out) if out else 0
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    close(conn)
                    continue
                del out[:sent]
                if not out:
                    pending.pop(conn, None)
                    sel.modify(conn, selectors.EVENT_READ, True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, choices=["tcpserver", "threading", "multiprocessing", "selectors"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mode", default="echo", choices=["echo", "cpu"])
    parser.add_argument("--workers", type=int, default=20)
    args = parser.parse_args()
    cpu = args.mode == "cpu"
    if args.model == "tcpserver":
        run_socketserver(socketserver.TCPServer, "tcpserver", args.host, args.port, cpu)
    elif args.model == "threading":
        run_socketserver(socketserver.ThreadingTCPServer, "threading", args.host, args.port, cpu)
    elif args.model == "multiprocessing":
        run_multiprocessing(args.host, args.port, cpu, args.workers)
    else:
        run_selectors(args.host, args.port, cpu)


if __name__ == "__main__":
    main()
