/* Every number that crosses between C and JS, named. Mirrored one enum to one `as const` object
 * in src/internal/protocol.ts; the addon exports them as `constants` (built in constants.c) and
 * test/native.test.ts checks that both sides agree, so they cannot drift. */
#ifndef ECHO_PROTOCOL_H
#define ECHO_PROTOCOL_H

/* selCtl(handle, op, fd, events): protocol.ts SelOp */
enum echo_sel_op { ECHO_SEL_REGISTER = 0, ECHO_SEL_MODIFY = 1, ECHO_SEL_UNREGISTER = 2 };

/* loopConn(handle, op, fd, id, arg): protocol.ts ConnOp */
enum echo_conn_op {
  ECHO_CONN_END = 0,     /* conn.end(): FIN once output is flushed */
  ECHO_CONN_DESTROY = 1, /* conn.destroy() */
  ECHO_CONN_PAUSE = 2,   /* arg 1 pauses reads (an async handler is running), 0 resumes */
  ECHO_CONN_PENDING = 3  /* conn.writableLength */
};

/* loopControl(handle, op): protocol.ts LoopControl */
enum echo_loop_control {
  ECHO_LOOP_STOP_ACCEPTING = 0, /* close the listener; connections go on */
  ECHO_LOOP_DESTROY_ALL = 1,    /* the close deadline passed */
  ECHO_LOOP_FREE = 2            /* everything closed: free the loop and its libuv handles */
};

/* shutdown(fd, how): protocol.ts Shutdown */
enum echo_shutdown { ECHO_SHUT_READ = 0, ECHO_SHUT_WRITE = 1, ECHO_SHUT_BOTH = 2 };

/* selCreate(kind), loopCreate(kind, ...): protocol.ts Kind */
enum echo_kind { KIND_EPOLL = 1, KIND_POLL = 2, KIND_SELECT = 3, KIND_IO_URING = 4 };

/* Interest and readiness masks: protocol.ts Event (selectors.ts EVENT_READ, EVENT_WRITE) */
enum echo_event { SEL_READ = 1, SEL_WRITE = 2 };

/* Slots of one record, REC_INTS int32 each: [type, fd, id, a, b, c, 0, 0]. protocol.ts RecField */
enum echo_rec_field { REC_TYPE = 0, REC_FD = 1, REC_ID = 2, REC_A = 3, REC_B = 4, REC_C = 5 };

/* Record types of the loop's batches (slot REC_TYPE). protocol.ts Rec */
enum echo_record {
  REC_ACCEPT = 1,   /* a=family (enum echo_family) b=port c=IPv4 address (host order) */
  REC_DATA = 2,     /* a=offset in the input buffer, b=length */
  REC_EOF = 3,
  REC_DRAIN = 4,
  REC_CLOSE = 5,    /* a=reason: enum echo_close_reason, or >0 an errno */
  REC_FDSETSIZE = 6 /* a=fd refused: select cannot watch it */
};

/* An ACCEPT record's address family: protocol.ts Family */
enum echo_family { ECHO_FAMILY_UNIX = 0, ECHO_FAMILY_IPV4 = 4, ECHO_FAMILY_IPV6 = 6 };

/* A CLOSE record's reason when it is not an errno: protocol.ts CloseReason */
enum echo_close_reason { ECHO_CLOSE_NORMAL = 0, ECHO_CLOSE_IDLE = -1 };

/* Slots of the shared stats array, in the order of @echo/core's statsKeys: protocol.ts Stat */
enum echo_stat { ST_ACCEPTED, ST_ACTIVE, ST_QUEUED, ST_CLOSED, ST_REJECTED, ST_BYTES_IN, ST_BYTES_OUT, ST_ERRORS, ST_TIMEOUTS, ST_BUFFERED, ST_ACCEPT_ERRORS, ST_PROXY_REJECTED, ST_COUNT };

/* Sizes of the buffers JS hands to loopCreate: protocol.ts Layout */
enum echo_layout {
  REC_INTS = 8,     /* int32 slots per record */
  REC_MIN = 16      /* the records array holds at least this many */
};

#endif
