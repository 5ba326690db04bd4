package server

import (
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// Why a connection refused mid-request is drained before it is closed: when
// fasthttp cannot read a request (a body over MaxBodyBytes, say) it answers
// and closes the connection with the client's body still unread. Closing a
// socket with unread bytes makes the kernel send a reset, and a client that
// writes its whole body before it reads, as Python's urllib and many others
// do, then sees "connection reset by peer" on its write instead of the 413.
// So such a connection first sends its FIN (the answer is already written)
// and reads what the client still sends, up to lingerBytes or lingerTime,
// as net/http's lingering close does, before the real close. Only
// connections marked by parseError linger; an ordinary close is immediate.

// lingerBytes bounds what a refused connection reads and throws away.
const lingerBytes = 64 << 20

// lingerTime bounds how long a refused connection waits for the client.
const lingerTime = 3 * time.Second

// lingerListener wraps the accepted connections in lingerConns.
type lingerListener struct{ net.Listener }

func (l lingerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &lingerConn{Conn: c}, nil
}

// lingerConn is a connection that can be told to linger on Close.
type lingerConn struct {
	net.Conn
	linger atomic.Bool
	closed atomic.Bool
}

// lingerOnClose makes c's Close drain the client's unread bytes first; a
// connection that is not a lingerConn is left as it is.
func lingerOnClose(c net.Conn) {
	if lc, ok := c.(*lingerConn); ok {
		lc.linger.Store(true)
	}
}

// Close closes the connection; a lingering one half-closes now and closes
// fully once the client has stopped sending, in the background so the
// server's worker is free at once.
func (c *lingerConn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	cw, ok := c.Conn.(interface{ CloseWrite() error })
	if !c.linger.Load() || !ok {
		return c.Conn.Close()
	}
	if err := cw.CloseWrite(); err != nil {
		return c.Conn.Close()
	}
	go func() {
		c.Conn.SetReadDeadline(time.Now().Add(lingerTime))
		io.CopyN(io.Discard, c.Conn, lingerBytes)
		c.Conn.Close()
	}()
	return nil
}

// watchGone returns a channel closed once the client has closed or reset
// the connection, which a long answer (a live subscription) would otherwise
// learn only at its next write. It reads the connection in the background,
// so it is only for an answer after which the connection closes: the
// caller must have set Connection: close, and a byte the client sends
// meanwhile is read and dropped. The read deadline fasthttp set for the
// request is lifted; the read ends when the connection closes.
func (c *lingerConn) watchGone() <-chan struct{} {
	gone := make(chan struct{})
	c.Conn.SetReadDeadline(time.Time{})
	go func() {
		defer close(gone)
		var b [512]byte
		for {
			_, err := c.Conn.Read(b[:])
			if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				return
			}
		}
	}()
	return gone
}
