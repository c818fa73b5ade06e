package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"testing"

	"github.com/triggershq/triggers/pkg/httpapi"
)

// The limiter's client is the connection's address unless that address is
// a trusted proxy; then X-Forwarded-For is walked from the right past the
// trusted hops. IPv6 clients count per /64.
func TestClientKey(t *testing.T) {
	t.Parallel()
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no proxies configured: forwarding ignored", "192.0.2.7:1234", []string{"198.51.100.1"}, nil, "192.0.2.7"},
		{"untrusted peer: forwarding ignored", "192.0.2.7:1234", []string{"198.51.100.1"}, proxies, "192.0.2.7"},
		{"trusted proxy: the address it saw", "10.1.2.3:80", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
		{"forged entries left of the proxy's are ignored", "10.1.2.3:80", []string{"6.6.6.6, 198.51.100.1"}, proxies, "198.51.100.1"},
		{"two trusted hops", "10.1.2.3:80", []string{"198.51.100.1, 10.9.9.9"}, proxies, "198.51.100.1"},
		{"several headers are one list", "10.1.2.3:80", []string{"6.6.6.6", "198.51.100.1"}, proxies, "198.51.100.1"},
		{"garbled entry: stop at the proxy", "10.1.2.3:80", []string{"not-an-ip"}, proxies, "10.1.2.3"},
		{"no header: the proxy itself", "10.1.2.3:80", nil, proxies, "10.1.2.3"},
		{"IPv6 counts per /64", "[2001:db8:1:2:aaaa::1]:443", nil, nil, "2001:db8:1:2::/64"},
		{"IPv4-mapped IPv6 is IPv4", "[::ffff:192.0.2.9]:443", nil, nil, "192.0.2.9"},
		{"IPv6 client behind a proxy", "[fd00::5]:80", []string{"2001:db8:1:2:aaaa::1"}, proxies, "2001:db8:1:2::/64"},
		{"unparsable RemoteAddr is kept as is", "pipe", nil, nil, "pipe"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("POST", "/token", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := httpapi.ClientKey(r, tc.trusted); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// Many wrong keys sent at once from one client are still held to the
// limit: attempts from one client are verified one at a time, so each sees
// the failures recorded before it.
func TestTokenLimitHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil) // the fixture's limiter allows 3 failures a minute
	const n = 24
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		statuses = map[int]int{}
	)
	for i := range n {
		wg.Go(func() {
			res := e.do(req{method: "POST", target: "/token", remote: "192.0.2.99:" + strconv.Itoa(1000+i),
				header: hdr("Content-Type", "application/x-www-form-urlencoded"),
				body:   url.Values{"password": {"wrong-" + strconv.Itoa(i)}}.Encode()})
			mu.Lock()
			statuses[res.Code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[http.StatusUnauthorized] != 3 || statuses[http.StatusTooManyRequests] != n-3 {
		t.Errorf("got %v, want exactly 3 × 401 and %d × 429", statuses, n-3)
	}
}
