package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
)

// clientKey is the /token limiter's notion of a client.
//
// It starts from the connection's address (the API Gateway adapter sets
// RemoteAddr from the real source address). Only when that address is one
// of the operator's trusted proxies is X-Forwarded-For consulted, walking
// it from the right past other trusted proxies to the first address a
// trusted hop saw: anything further left is whatever the client wrote.
// IPv6 clients are keyed by their /64, since one subscriber holds a whole
// /64 and could otherwise rotate through it.
func clientKey(r *http.Request, trusted []netip.Prefix) string {
	addr, ok := remoteAddr(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr
	}
	if len(trusted) > 0 && inAny(addr, trusted) {
		hops := forwardedFor(r.Header.Values("X-Forwarded-For"))
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(hops[i])
			if err != nil {
				break // a garbled entry: stop at the last address we trust
			}
			addr = hop.Unmap()
			if !inAny(addr, trusted) {
				break
			}
		}
	}
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

func remoteAddr(s string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		host = s
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return addr.Unmap().WithZone(""), true
}

// forwardedFor flattens X-Forwarded-For headers into hops, left to right.
func forwardedFor(values []string) []string {
	var hops []string
	for _, v := range values {
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hops = append(hops, h)
			}
		}
	}
	return hops
}

func inAny(a netip.Addr, prefixes []netip.Prefix) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientLocks lets one /token verification per client run at a time in
// this process. The limiter is check-then-record; without this, a client
// sending many wrong keys at once would have them all checked against the
// same count before any failure was recorded, and the limit would not
// hold. Legitimate clients ask for a token about once a day, so waiting
// their turn costs them nothing.
type clientLocks struct {
	mu    sync.Mutex
	locks map[string]*clientLock
}

type clientLock struct {
	sync.Mutex
	users int // holders and waiters; the entry goes when it drops to 0
}

// lock takes the client's lock and returns its release.
func (c *clientLocks) lock(key string) (unlock func()) {
	c.mu.Lock()
	if c.locks == nil {
		c.locks = map[string]*clientLock{}
	}
	l := c.locks[key]
	if l == nil {
		l = &clientLock{}
		c.locks[key] = l
	}
	l.users++
	c.mu.Unlock()

	l.Lock()
	return func() {
		l.Unlock()
		c.mu.Lock()
		if l.users--; l.users == 0 {
			delete(c.locks, key)
		}
		c.mu.Unlock()
	}
}
