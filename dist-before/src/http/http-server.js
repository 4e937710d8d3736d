/**
 * The Node HTTP server around the app: the deadlines that keep a slow or silent client from holding a
 * connection (headers, whole request, idle keep-alive), and envelope answers for the requests that
 * never reach Express (one Node's parser refuses or gives up on, and CONNECT).
 */
import { createServer, STATUS_CODES } from 'node:http';
import { errorBody } from "./envelope.js";
/**
 * Node checks the two request deadlines on a timer (every 30 s by default), so a client could hold
 * its connection up to that much past its deadline; checking at least every second bounds the
 * overrun to a second. The check walks the open connections only, so it is cheap.
 */
const MAX_CHECK_INTERVAL_MS = 1_000;
const MALFORMED = { status: 400, type: 'validation', message: 'request: not a well-formed HTTP/1.1 request' };
/** What to answer for a request Node's parser refused; mirrors Node's own choice of status. */
function refusalOf(code) {
    switch (code) {
        case 'ERR_HTTP_REQUEST_TIMEOUT':
            return { status: 408, type: 'validation', message: 'request: its headers or body did not arrive within the time limit' };
        case 'HPE_HEADER_OVERFLOW':
            return { status: 431, type: 'validation', message: 'headers: the request line and headers are larger than the accepted size' };
        case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
            return { status: 413, type: 'validation', message: 'body: chunk extensions larger than the accepted size' };
        default:
            return MALFORMED;
    }
}
/**
 * Writes a complete error response straight to the socket, then lets go of it: ending it alone would
 * leave it half open for as long as a hostile client keeps sending.
 */
function answerOnSocket(socket, refusal) {
    const body = JSON.stringify(errorBody(refusal));
    socket.end(`HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? ''}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body, () => socket.destroy());
}
export function createHttpServer(app, timeouts) {
    const server = createServer({
        headersTimeout: timeouts.headersTimeoutMs,
        requestTimeout: timeouts.requestTimeoutMs,
        keepAliveTimeout: timeouts.keepAliveTimeoutMs,
        connectionsCheckingInterval: Math.min(MAX_CHECK_INTERVAL_MS, timeouts.headersTimeoutMs),
        // Node would answer a bare 400 itself; the check below answers it in the envelope instead.
        requireHostHeader: false,
    }, (req, res) => {
        // HTTP/1.1 requires Host (RFC 9112, section 3.2).
        if (req.httpVersion === '1.1' && req.headers.host === undefined) {
            const body = JSON.stringify(errorBody(MALFORMED));
            res.writeHead(MALFORMED.status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), Connection: 'close' });
            res.end(body);
            return;
        }
        app(req, res);
    });
    server.on('clientError', (err, socket) => {
        // As Node's default handler: answer only when the socket can still carry a whole response and no
        // response of this connection has started (a reset, or a pipelined request behind one).
        const inFlight = socket._httpMessage;
        if (socket.writable && inFlight?.headersSent !== true)
            answerOnSocket(socket, refusalOf(err.code));
        else
            socket.destroy();
    });
    // CONNECT never reaches Express (Node hands it to this event, or drops the socket when nobody listens).
    server.on('connect', (req, socket) => {
        answerOnSocket(socket, { status: 404, type: 'route', message: `no route CONNECT ${req.url ?? ''}` });
    });
    return server;
}
//# sourceMappingURL=http-server.js.map