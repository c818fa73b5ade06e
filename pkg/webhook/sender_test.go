package webhook_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/webhook"
)

func TestSendSignedRequest(t *testing.T) {
	t.Parallel()
	secret := event.NewSecret()
	rcv := newReceiver(t, secret)
	s := localSender(t, webhook.Options{})
	e := testEvent()
	id := event.DeliveryID(e.ID, "sub-1")

	res := s.Send(context.Background(), rcv.URL+"/hook?zap=1", secret, id, e)
	if res.Outcome != event.OutcomeSuccess || res.StatusCode != 200 || res.Err != "" || res.Cause != nil {
		t.Fatalf("got %+v, want a success", res)
	}
	if res.Latency <= 0 || res.At.IsZero() || !res.At.Equal(event.Timestamp(res.At)) {
		t.Fatalf("got latency %v at %v, want both set, at in event.Timestamp form", res.Latency, res.At)
	}
	got := rcv.requests()
	if len(got) != 1 {
		t.Fatalf("got %d requests, want 1", len(got))
	}
	r := got[0]
	if r.handErr != nil || r.packageErr != nil {
		t.Fatalf("got independent verdict %v and package verdict %v, want both nil", r.handErr, r.packageErr)
	}
	wantBody, _ := webhook.Body(e)
	if !bytes.Equal(r.body, wantBody) {
		t.Fatalf("got body %s, want %s", r.body, wantBody)
	}
	checks := map[string]string{
		"webhook-id":        id,
		"webhook-timestamp": strconv.FormatInt(res.At.Unix(), 10),
		"Content-Type":      "application/json",
		"User-Agent":        webhook.DefaultUserAgent,
	}
	for k, want := range checks {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s: got %q, want %q", k, got, want)
		}
	}
}

func TestSendOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    event.Outcome
		wantErr string
	}{
		{"200", status(200), event.OutcomeSuccess, ""},
		{"204", status(204), event.OutcomeSuccess, ""},
		{"202 with body", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(202); io.WriteString(w, "queued") }, event.OutcomeSuccess, ""},
		{"410", status(410), event.OutcomeGone, "HTTP 410 Gone: the subscription is removed"},
		{"500", status(500), event.OutcomeRetry, "HTTP 500"},
		{"502", status(502), event.OutcomeRetry, "HTTP 502"},
		{"503", status(503), event.OutcomeRetry, "HTTP 503"},
		{"429", status(429), event.OutcomeRetry, "HTTP 429"},
		{"408", status(408), event.OutcomeRetry, "HTTP 408"},
		{"400", status(400), event.OutcomeFailed, "HTTP 400"},
		{"401", status(401), event.OutcomeFailed, "HTTP 401"},
		{"404", status(404), event.OutcomeFailed, "HTTP 404"},
		{"413", status(413), event.OutcomeFailed, "HTTP 413"},
		{"304", status(304), event.OutcomeFailed, "HTTP 304: redirects are not followed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			secret := event.NewSecret()
			rcv := newReceiver(t, secret, tt.handler)
			res := localSender(t, webhook.Options{}).Send(context.Background(), rcv.URL, secret, "msg_1", testEvent())
			if res.Outcome != tt.want || res.Err != tt.wantErr {
				t.Fatalf("got %s %q, want %s %q", res.Outcome, res.Err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(other.Close)
	secret := event.NewSecret()
	for _, code := range []int{301, 302, 307, 308} {
		rcv := newReceiver(t, secret, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/internal", code)
		})
		res := localSender(t, webhook.Options{}).Send(context.Background(), rcv.URL, secret, "msg_1", testEvent())
		if res.Outcome != event.OutcomeFailed || res.StatusCode != code || !strings.Contains(res.Err, "redirects are not followed") {
			t.Fatalf("%d: got %+v, want a failed attempt with status %d", code, res, code)
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("got %d requests at the redirect target, want 0", n)
	}
}

func TestRetriesThenSuccessDeliversOnce(t *testing.T) {
	t.Parallel()
	secret := event.NewSecret()
	rcv := newReceiver(t, secret, status(500), status(502), status(503), status(200))
	s := localSender(t, webhook.Options{})
	p := webhook.DefaultPolicy()
	rnd := rand.New(rand.NewPCG(1, 2))
	e := testEvent()
	d := event.NewDelivery(e.ID, "sub-1", time.Now())

	var attempts []event.Attempt
	for d.State == event.DeliveryPending {
		var a event.Attempt
		d, a = p.Apply(d, s.Send(context.Background(), rcv.URL, secret, d.ID, e), rnd)
		attempts = append(attempts, a)
		if len(attempts) > p.MaxAttempts() {
			t.Fatal("the delivery never settled")
		}
	}
	if d.State != event.DeliverySucceeded || d.Attempts != 4 || len(attempts) != 4 {
		t.Fatalf("got %s after %d attempts, want succeeded after 4", d.State, d.Attempts)
	}
	for i, a := range attempts {
		want := event.OutcomeRetry
		if i == 3 {
			want = event.OutcomeSuccess
		}
		if a.N != i+1 || a.Outcome != want || a.DeliveryID != d.ID {
			t.Errorf("attempt %d: got %+v, want N=%d outcome %s", i, a, i+1, want)
		}
	}
	got := rcv.requests()
	if len(got) != 4 {
		t.Fatalf("got %d requests, want 4", len(got))
	}
	for i, r := range got {
		if r.header.Get("webhook-id") != d.ID {
			t.Errorf("request %d: got webhook-id %q, want %q on every retry", i, r.header.Get("webhook-id"), d.ID)
		}
		if r.handErr != nil || r.packageErr != nil {
			t.Errorf("request %d: got verdicts %v / %v, want nil", i, r.handErr, r.packageErr)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Now().Truncate(time.Second)
	clock := func() time.Time { return now }
	tests := []struct {
		name   string
		code   int
		header string
		want   time.Duration
	}{
		{"seconds", 429, "120", 120 * time.Second},
		{"http date", 429, now.Add(time.Hour).UTC().Format(http.TimeFormat), time.Hour},
		{"503 seconds", 503, "7", 7 * time.Second},
		{"date in the past", 429, now.Add(-time.Hour).UTC().Format(http.TimeFormat), 0},
		{"negative", 429, "-5", 0},
		{"garbage", 429, "soon", 0},
		{"huge", 429, "99999999999999", 365 * 24 * time.Hour},
		{"ignored on 2xx", 200, "60", 0},
		{"ignored on 4xx", 400, "60", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			secret := event.NewSecret()
			rcv := newReceiver(t, secret, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", tt.header)
				w.WriteHeader(tt.code)
			})
			res := localSender(t, webhook.Options{Now: clock}).Send(context.Background(), rcv.URL, secret, "msg_1", testEvent())
			if res.RetryAfter != tt.want {
				t.Fatalf("got %v, want %v", res.RetryAfter, tt.want)
			}
			if r := rcv.requests()[0]; webhook.VerifyAt(secret, r.header, r.body, 0, now) != nil {
				t.Fatal("got an unverifiable request with an injected clock")
			}
		})
	}
	t.Run("policy honours it", func(t *testing.T) {
		t.Parallel()
		secret := event.NewSecret()
		rcv := newReceiver(t, secret, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", now.Add(3*time.Hour).UTC().Format(http.TimeFormat))
			w.WriteHeader(429)
		})
		res := localSender(t, webhook.Options{Now: clock}).Send(context.Background(), rcv.URL, secret, "msg_1", testEvent())
		d, _ := webhook.DefaultPolicy().Apply(event.NewDelivery("e", "s", now), res, rand.New(rand.NewPCG(3, 4)))
		if wait := d.NextAttemptAt.Sub(now); wait < 3*time.Hour || wait > 3*time.Hour+time.Second {
			t.Fatalf("got the next attempt %v after now, want 3h (the Retry-After)", wait)
		}
	})
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	secret := event.NewSecret()
	rcv := newReceiver(t, secret, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	s := localSender(t, webhook.Options{Timeout: 100 * time.Millisecond})
	res := s.Send(context.Background(), rcv.URL, secret, "msg_1", testEvent())
	if res.Outcome != event.OutcomeRetry || res.Err != "timed out after 100ms" || res.StatusCode != 0 {
		t.Fatalf("got %s %q status %d, want retry \"timed out after 100ms\"", res.Outcome, res.Err, res.StatusCode)
	}
	if res.Latency < 100*time.Millisecond {
		t.Fatalf("got latency %v, want at least the timeout", res.Latency)
	}
}

func TestTimeoutCoversSlowBody(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	secret := event.NewSecret()
	// Headers at once, then a body that never ends: the receiver said 200,
	// so the attempt succeeds, and the timeout still ends it.
	rcv := newReceiver(t, secret, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) })
	res := localSender(t, webhook.Options{Timeout: 100 * time.Millisecond}).Send(context.Background(), rcv.URL, secret, "msg_1", testEvent())
	if res.Outcome != event.OutcomeSuccess {
		t.Fatalf("got %+v, want success", res)
	}
}

func TestHugeResponseIsNotRead(t *testing.T) {
	t.Parallel()
	const total = 256 << 20
	written := make(chan int64, 1)
	secret := event.NewSecret()
	rcv := newReceiver(t, secret, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(200)
		chunk := bytes.Repeat([]byte("x"), 32<<10)
		var n int64
		for n < total {
			m, err := w.Write(chunk)
			n += int64(m)
			if err != nil {
				break
			}
		}
		written <- n
	})
	res := localSender(t, webhook.Options{MaxResponseBytes: 1 << 10}).Send(context.Background(), rcv.URL, secret, "msg_1", testEvent())
	if res.Outcome != event.OutcomeSuccess {
		t.Fatalf("got %+v, want success", res)
	}
	if n := <-written; n >= total {
		t.Fatalf("got all %d bytes written, want the sender to stop reading and close", n)
	}
}

func TestConnectionReset(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, _ = c.Read(buf)
			_ = c.(*net.TCPConn).SetLinger(0) // close with RST
			_ = c.Close()
		}
	}()
	res := localSender(t, webhook.Options{}).Send(context.Background(), "http://"+ln.Addr().String()+"/", event.NewSecret(), "msg_1", testEvent())
	if res.Outcome != event.OutcomeRetry || res.Cause == nil {
		t.Fatalf("got %+v, want a retry", res)
	}
	if res.Err != "connection reset by the receiver" && res.Err != "connection closed before a response" {
		t.Fatalf("got %q (cause %v), want a reset or closed connection", res.Err, res.Cause)
	}
	if strings.Contains(res.Err, "127.0.0.1") {
		t.Fatalf("got %q, which names an address", res.Err)
	}
}

func TestDeadTargetIsRecordedAndDisabled(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := "http://" + ln.Addr().String() + "/hook"
	ln.Close() // nothing listens there now: connection refused

	s := localSender(t, webhook.Options{})
	p := webhook.DefaultPolicy()
	rnd := rand.New(rand.NewPCG(5, 6))
	d := event.NewDelivery("e", "s", time.Now())
	var log []event.Attempt // what a DeliveryLog would hold, oldest first
	for d.State == event.DeliveryPending {
		var a event.Attempt
		d, a = p.Apply(d, s.Send(context.Background(), target, event.NewSecret(), d.ID, testEvent()), rnd)
		log = append(log, a)
	}
	if d.State != event.DeliveryDead || len(log) != p.MaxAttempts() {
		t.Fatalf("got %s after %d attempts, want dead after %d", d.State, len(log), p.MaxAttempts())
	}
	for _, a := range log {
		if a.Outcome != event.OutcomeRetry || a.Error != "connection refused" {
			t.Fatalf("got %+v, want a recorded refused connection", a)
		}
	}
	h := webhook.HealthFrom(reversed(log))
	h.Exhausted = d.State == event.DeliveryDead
	reason, disable := p.ShouldDisable(h, time.Now())
	if !disable || reason == "" {
		t.Fatalf("got disable=%v %q, want the subscription disabled with a reason", disable, reason)
	}
}

func reversed(a []event.Attempt) []event.Attempt {
	out := make([]event.Attempt, len(a))
	for i, x := range a {
		out[len(a)-1-i] = x
	}
	return out
}

func TestSendRefusesBadInputWithoutCalling(t *testing.T) {
	t.Parallel()
	secret := event.NewSecret()
	rcv := newReceiver(t, secret)
	s := localSender(t, webhook.Options{})
	bad := testEvent()
	bad.Payload = []byte("not json")
	tests := []struct {
		name           string
		target, secret string
		e              event.Event
	}{
		{"ftp target", "ftp://" + strings.TrimPrefix(rcv.URL, "http://"), secret, testEvent()},
		{"no host", "http:///x", secret, testEvent()},
		{"garbage target", "::::", secret, testEvent()},
		{"bad secret", rcv.URL, "whsec_short", testEvent()},
		{"bad payload", rcv.URL, secret, bad},
	}
	for _, tt := range tests {
		res := s.Send(context.Background(), tt.target, tt.secret, "msg_1", tt.e)
		if res.Outcome != event.OutcomeFailed || res.Err == "" {
			t.Errorf("%s: got %+v, want failed", tt.name, res)
		}
		if strings.Contains(res.Err, "short") {
			t.Errorf("%s: got %q, which echoes the secret", tt.name, res.Err)
		}
	}
	if n := len(rcv.requests()); n != 0 {
		t.Fatalf("got %d requests, want 0", n)
	}
}

func TestCancelledContextIsRetried(t *testing.T) {
	t.Parallel()
	secret := event.NewSecret()
	rcv := newReceiver(t, secret)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := localSender(t, webhook.Options{}).Send(ctx, rcv.URL, secret, "msg_1", testEvent())
	if res.Outcome != event.OutcomeRetry {
		t.Fatalf("got %+v, want retry", res)
	}
}

// TestProxyEnvironmentIsIgnored cannot run in parallel (it sets the
// environment). net/http reads the proxy variables once per process, so it
// runs before any parallel test could make that happen.
func TestProxyEnvironmentIsIgnored(t *testing.T) {
	var proxied atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		proxied.Add(1)
		w.WriteHeader(200)
	}))
	t.Cleanup(proxy.Close)
	for _, k := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"} {
		t.Setenv(k, proxy.URL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")

	secret := event.NewSecret()
	rcv := newReceiver(t, secret)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(rcv.URL, "http://"))
	s := localSender(t, webhook.Options{Resolver: staticResolver(map[string][]string{"hooks.example.com": {"127.0.0.1"}})})
	res := s.Send(context.Background(), "http://hooks.example.com:"+port+"/", secret, "msg_1", testEvent())
	if res.Outcome != event.OutcomeSuccess || len(rcv.requests()) != 1 {
		t.Fatalf("got %+v and %d requests at the receiver, want a direct success", res, len(rcv.requests()))
	}
	if n := proxied.Load(); n != 0 {
		t.Fatalf("got %d requests through the proxy, want 0", n)
	}
}

// TestSwitchingProtocolsEndsTheAttempt: a receiver that answers 101 and
// then holds the connection must not hold the attempt. net/http hands a
// 101's connection over as the body, outside http.Client.Timeout, so
// reading it waited for as long as the receiver liked, and a few such
// subscriptions held every delivery slot of the single binary. The hang
// guard below is a failure bound, not a speed assertion.
func TestSwitchingProtocolsEndsTheAttempt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		response string
	}{
		{"101 then silence", "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"},
		{"101 without upgrade headers", "HTTP/1.1 101 Switching Protocols\r\n\r\n"},
		{"101 then a few bytes", "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\nhello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			release := make(chan struct{})
			t.Cleanup(func() { close(release); ln.Close() })
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				_, _ = c.Read(make([]byte, 64<<10))
				_, _ = io.WriteString(c, tt.response)
				<-release // hold the connection open, saying nothing more
			}()
			s := localSender(t, webhook.Options{Timeout: 100 * time.Millisecond})
			done := make(chan webhook.Result, 1)
			go func() {
				done <- s.Send(context.Background(), "http://"+ln.Addr().String()+"/hook", event.NewSecret(), "msg_1", testEvent())
			}()
			select {
			case res := <-done:
				if res.Outcome != event.OutcomeFailed || res.StatusCode != http.StatusSwitchingProtocols || res.Err != "HTTP 101" {
					t.Fatalf("got %+v, want a failed attempt with status 101", res)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Send still waiting on a 101 connection after 30s; want it to end within the 100ms timeout")
			}
		})
	}
}
