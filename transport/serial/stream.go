package serial

import (
	"context"
	"io"

	"github.com/fotasync/fotasync/transport/internal/link"
)

// stream is the io.Reader a Conn's Decoder reads from. One goroutine (pump)
// does the blocking reads of the line and hands the bytes over, so that a
// Read can give up when the current Recv's context ends. The goroutine exits
// when the line's Read fails, which closing the line must cause.
type stream struct {
	chunks chan chunk
	closed <-chan struct{} // closed by Conn.Close
	done   chan struct{}   // closed when pump has returned

	ctx  context.Context // the pending Recv's context
	rest []byte          // bytes of the last chunk not yet read
	err  error           // the line's read error, once seen
}

type chunk struct {
	data []byte
	err  error
}

func newStream(r io.Reader, closed <-chan struct{}) *stream {
	s := &stream{chunks: make(chan chunk), closed: closed, done: make(chan struct{})}
	go s.pump(r)
	return s
}

func (s *stream) pump(r io.Reader) {
	defer close(s.done)
	for {
		buf := make([]byte, 512)
		n, err := r.Read(buf)
		if n > 0 && !s.hand(chunk{data: buf[:n]}) {
			return
		}
		if err != nil {
			s.hand(chunk{err: err})
			return
		}
	}
}

// hand passes c to Read, or reports false once the Conn is closed.
func (s *stream) hand(c chunk) bool {
	select {
	case s.chunks <- c:
		return true
	case <-s.closed:
		return false
	}
}

// Read returns buffered bytes or waits for the next chunk, the end of the
// pending Recv's context, or Close. A read error of the line is sticky.
func (s *stream) Read(p []byte) (int, error) {
	if len(s.rest) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		select {
		case c := <-s.chunks:
			if c.err != nil {
				s.err = c.err
				return 0, c.err
			}
			s.rest = c.data
		case <-s.ctx.Done():
			return 0, s.ctx.Err()
		case <-s.closed:
			return 0, link.ErrClosed
		}
	}

	n := copy(p, s.rest)
	s.rest = s.rest[n:]
	return n, nil
}
