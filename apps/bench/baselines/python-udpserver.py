# Python's socketserver.UDPServer echo, the article's server over UDP.
import socketserver, sys

class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        sock.sendto(data, self.client_address)

class Server(socketserver.UDPServer):
    # socketserver cuts datagrams to max_packet_size (8192 by default); keep the full size.
    max_packet_size = 65535

with Server(("127.0.0.1", int(sys.argv[1])), Echo) as server:
    print("listening", sys.argv[1], flush=True)
    server.serve_forever()
