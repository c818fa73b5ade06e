package httpapi_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// rawExchange writes a raw HTTP/1.1 request to a real server and returns
// the response, for requests a Go client would not send.
func rawExchange(t *testing.T, srv *httptest.Server, raw string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Minute)) // a hang guard, not an assertion
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	method, _, _ := strings.Cut(raw, " ")
	res, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("read response to %q: %v", raw[:min(len(raw), 60)], err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// Behaviour that only shows over a real connection: HEAD has no body,
// an oversized body announced with Expect: 100-continue is refused before
// the client sends it, and odd request forms still get problem+json.
func TestOverRealHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	srv := httptest.NewServer(e.handler)
	t.Cleanup(srv.Close)
	tok := e.token(keyFull)

	res, body := rawExchange(t, srv, "HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if res.StatusCode != 200 || body != "" {
		t.Errorf("HEAD /health: got %d with body %q, want 200 and no body", res.StatusCode, body)
	}

	res, body = rawExchange(t, srv, fmt.Sprintf("POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: 999999999\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n", tok))
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, `"code":"payload_too_large"`) {
		t.Errorf("Expect: 100-continue with a huge body: got %d %s, want 413 before sending it", res.StatusCode, body)
	}

	res, body = rawExchange(t, srv, "POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+tok+
		"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"+
		"10\r\n{\"type\":\"a\",\"sou\r\n1b\r\nrce\":\"b\",\"payload\":{\"x\":1}}\r\n0\r\n\r\n")
	if res.StatusCode != http.StatusCreated {
		t.Errorf("chunked create: got %d %s, want 201", res.StatusCode, body)
	}

	// Go's mux redirects unclean paths before any route runs (docs/api.md).
	res, _ = rawExchange(t, srv, "GET /inbox/../health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if res.StatusCode != http.StatusTemporaryRedirect || res.Header.Get("Location") != "/health" {
		t.Errorf("unclean path: got %d to %q, want 307 to /health", res.StatusCode, res.Header.Get("Location"))
	}

	for _, raw := range []string{
		"CONNECT triggers.test:443 HTTP/1.1\r\nHost: triggers.test:443\r\n\r\n",
		"GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET http://other.example/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	} {
		res, body := rawExchange(t, srv, raw)
		if res.StatusCode >= 500 {
			t.Errorf("%q: got %d", raw, res.StatusCode)
		}
		if res.StatusCode >= 400 && res.StatusCode != http.StatusBadRequest && res.Header.Get("Content-Type") != "application/problem+json" {
			// net/http itself answers some malformed requests with a
			// plain 400 before any handler runs; everything else is ours.
			t.Errorf("%q: got %d with Content-Type %q, body %q", raw, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
	}
}
