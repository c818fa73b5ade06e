package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

// requestInfo is what the access log line says about one request. The
// outermost middleware creates it; inner layers fill it in as they learn
// (the route, the caller's key, the event touched, the error). One request
// is served by one goroutine at a time, so it needs no lock.
type requestInfo struct {
	id      string
	route   string     // the route pattern, never the raw path
	keyID   string     // the API key behind the caller's token, once known
	eventID string     // the event the request created or touched
	code    event.Code // the problem code of an error response
	err     error      // the cause of a 5xx, for the log only
}

type requestInfoKey struct{}

// infoFrom returns the request's info, or a throwaway one for a request
// that did not come through the middleware (a handler called directly).
func infoFrom(ctx context.Context) *requestInfo {
	if info, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return info
	}
	return &requestInfo{}
}

// RequestID returns the request id the middleware gave ctx's request, or "".
func RequestID(ctx context.Context) string {
	if info, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return info.id
	}
	return ""
}

// maxRequestIDLen bounds an honoured X-Request-Id: long enough for any
// tracing system's ids, short enough to keep log lines sane.
const maxRequestIDLen = 128

// saneRequestID reports whether a client's X-Request-Id may be reused:
// 1..128 printable ASCII characters without spaces, so it cannot forge log
// fields or split headers.
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= 0x20 || id[i] >= 0x7f {
			return false
		}
	}
	return true
}

// middleware wraps next in what every route shares, outermost first:
// request id and headers, the access log, then panic recovery (inside the
// log, so a recovered panic is logged with its 500).
func (a *API) middleware(next http.Handler) http.Handler {
	inner := a.recoverer(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Durations come from the monotonic wall clock on purpose: they
		// measure this process, not domain time, which is a.now's job.
		start := time.Now()
		info := &requestInfo{id: r.Header.Get("X-Request-Id")}
		if len(r.Header.Values("X-Request-Id")) != 1 || !saneRequestID(info.id) {
			info.id = a.ids.New(a.now())
		}
		r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
		h := w.Header()
		h.Set("X-Request-Id", info.id)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		rec := &recorder{ResponseWriter: w}
		defer func() { a.logAccess(r, info, rec, time.Since(start)) }()
		inner.ServeHTTP(rec, r)
	})
}

// recoverer turns a panic into a logged 500. No input may reach it: the
// handler tests and fuzz targets fail on any 5xx.
func (a *API) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { //nolint:errorlint // sentinel compared as net/http does
				panic(v)
			}
			a.log.ErrorContext(r.Context(), "panic serving request",
				slog.String("panic", fmt.Sprint(v)), slog.String("stack", string(debug.Stack())))
			err := event.Internal("serve "+infoFrom(r.Context()).route, fmt.Errorf("panic: %v", v))
			if rec, ok := w.(*recorder); ok && rec.status != 0 {
				infoFrom(r.Context()).err = err // too late to change the status
				return
			}
			writeProblem(w, r, err)
		}()
		next.ServeHTTP(w, r)
	})
}

// logAccess writes the one access line of a request. It names the route
// pattern rather than the path, and never the query, the headers or the
// body: those are where API keys and tokens travel.
func (a *API) logAccess(r *http.Request, info *requestInfo, rec *recorder, d time.Duration) {
	status := rec.status
	if status == 0 {
		status = http.StatusOK // the handler wrote nothing
	}
	attrs := []slog.Attr{
		// A method is any token up to the header limit (64 KiB on the
		// single binary): a client must not choose how long our lines are.
		slog.String("method", clipMethod(r.Method)),
		slog.String("route", info.route),
		slog.Int("status", status),
		// Milliseconds as a float: JSON handlers would print a Duration as
		// integer nanoseconds, which nobody reads correctly at a glance.
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.Int64("bytes", rec.bytes),
	}
	if info.keyID != "" {
		attrs = append(attrs, slog.String("key_id", info.keyID))
	}
	if info.eventID != "" {
		attrs = append(attrs, slog.String("event_id", info.eventID))
	}
	if info.code != "" {
		attrs = append(attrs, slog.String("code", string(info.code)))
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
		if info.err != nil {
			attrs = append(attrs, slog.String("error", info.err.Error()))
		}
	}
	a.log.LogAttrs(r.Context(), level, "request", attrs...)
}

// clipMethod shortens an absurdly long request method for logs and
// problem details; real methods are a few letters.
func clipMethod(m string) string {
	if len(m) > 32 {
		return m[:32] + "…"
	}
	return m
}

// recorder remembers the status and size of a response for the access log.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recorder) WriteHeader(status int) {
	if w.status == 0 && status >= 200 { // 1xx are interim, not the answer
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// contextHandler adds the request id of the context to every record, so a
// handler's slog.InfoContext(r.Context(), ...) is tied to its request.
type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, rec slog.Record) error {
	if id := RequestID(ctx); id != "" {
		rec.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, rec)
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}
