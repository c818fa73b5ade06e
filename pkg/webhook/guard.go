package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

// Resolver looks up the addresses of a host name. *net.Resolver implements
// it; tests pass a ResolverFunc so they need no DNS.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ResolverFunc adapts a function to Resolver.
type ResolverFunc func(ctx context.Context, network, host string) ([]netip.Addr, error)

// LookupNetIP calls f.
func (f ResolverFunc) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	return f(ctx, network, host)
}

// resolveTimeout bounds the DNS lookup of CheckTarget.
const resolveTimeout = 5 * time.Second

type blockedRange struct {
	prefix netip.Prefix
	reason string
}

// IPv4 ranges that are not on the public internet (IANA's special-purpose
// registry, "globally reachable: false", plus multicast and broadcast).
// Order matters only for the reason reported.
var blocked4 = []blockedRange{
	{netip.MustParsePrefix("0.0.0.0/8"), "unspecified"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (CGNAT)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local"}, // includes 169.254.169.254, the cloud metadata service
	{netip.MustParsePrefix("172.16.0.0/12"), "private"},
	{netip.MustParsePrefix("192.0.0.0/24"), "reserved"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation"},
	{netip.MustParsePrefix("192.88.99.0/24"), "reserved"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("255.255.255.255/32"), "broadcast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
}

// IPv6 is checked the other way round: only global unicast (2000::/3) can
// be public, minus the blocked6 ranges inside it; NAT64 addresses are judged
// by the IPv4 address they embed.
var (
	global6  = netip.MustParsePrefix("2000::/3")
	nat64    = netip.MustParsePrefix("64:ff9b::/96")
	blocked6 = []blockedRange{
		{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
		{netip.MustParsePrefix("2001::/23"), "reserved"}, // IETF protocol assignments, Teredo
		{netip.MustParsePrefix("2002::/16"), "6to4"},     // deprecated; embeds an IPv4 address
		{netip.MustParsePrefix("3fff::/20"), "documentation"},
	}
)

// PublicAddr reports whether a is an address on the public internet, the
// only kind the SSRF guard lets a delivery connect to. IPv4-mapped IPv6
// addresses (::ffff:a.b.c.d) and NAT64 ones (64:ff9b::a.b.c.d) are judged by
// the IPv4 address inside them; a zone is ignored.
func PublicAddr(a netip.Addr) bool { return blockedReason(a) == "" }

// blockedReason names the kind of a non-public address, "" for a public one.
func blockedReason(a netip.Addr) string {
	a = a.WithZone("").Unmap()
	switch {
	case !a.IsValid():
		return "invalid"
	case a.Is4():
		for _, r := range blocked4 {
			if r.prefix.Contains(a) {
				return r.reason
			}
		}
		return ""
	case nat64.Contains(a):
		b := a.As16()
		if r := blockedReason(netip.AddrFrom4([4]byte(b[12:]))); r != "" {
			return "NAT64 of " + r
		}
		return ""
	case a.IsUnspecified():
		return "unspecified"
	case a.IsLoopback():
		return "loopback"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case a.IsMulticast():
		return "multicast"
	case a.IsPrivate():
		return "private"
	case !global6.Contains(a):
		return "reserved"
	}
	for _, r := range blocked6 {
		if r.prefix.Contains(a) {
			return r.reason
		}
	}
	return ""
}

// blockedError is a refused address: at connect time from the dialer's
// Control, or at subscribe time.
type blockedError struct {
	addr   string
	reason string
}

func (e *blockedError) Error() string {
	return fmt.Sprintf("address %s is %s, not a public address", e.addr, e.reason)
}

// msgNotPublic is what a client is told. It does not say which address or
// which kind: that would let a subscriber map our internal DNS.
const msgNotPublic = "target_url must resolve only to public internet addresses (private, loopback, link-local and other reserved addresses are refused)"

// CheckTarget checks a webhook target URL before it is stored: its syntax
// (event.ValidateTargetURL) and, unless the operator allowed private
// networks, that its host is or resolves to public addresses only. It
// returns nil or a CodeInvalid *event.Error (Field "target_url", a 422)
// whose message is safe to show; the cause, with host and address, is in
// its Err for the logs.
//
// Passing this check is not enough to be safe, because the name may resolve
// differently later (DNS re-binding): the Sender's dialer checks again every
// address it connects to.
func (s *Sender) CheckTarget(ctx context.Context, rawURL string) error {
	if err := event.ValidateTargetURL(rawURL); err != nil {
		return err
	}
	if s.opts.AllowPrivateNetworks {
		return nil
	}
	u, err := url.Parse(rawURL)
	if err != nil { // ValidateTargetURL parsed it already
		return event.Invalid("target_url", "target_url is not a valid URL")
	}
	host := u.Hostname()
	addrs, err := s.lookup(ctx, "ip", host)
	if err != nil {
		return &event.Error{Code: event.CodeInvalid, Field: "target_url",
			Message: "target_url host could not be resolved", Err: fmt.Errorf("check target: %w", err)}
	}
	for _, a := range addrs {
		if r := blockedReason(a); r != "" {
			return &event.Error{Code: event.CodeInvalid, Field: "target_url", Message: msgNotPublic,
				Err: fmt.Errorf("check target host %q: %w", host, &blockedError{addr: a.String(), reason: r})}
		}
	}
	return nil
}

// lookup returns a literal address as is, or resolves a name, with a bound
// on the time it takes.
func (s *Sender) lookup(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	addrs, err := s.resolver.LookupNetIP(ctx, network, host)
	if err != nil {
		return nil, fmt.Errorf("resolve %q: %w", host, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("resolve %q: no addresses", host)
	}
	return addrs, nil
}

// control is the dialer's last word before a socket connects: it sees the
// address actually being dialled, whatever resolved it, so a name that was
// public when checked and private now is still refused.
func control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &blockedError{addr: address, reason: "not an IP address"}
	}
	if r := blockedReason(ap.Addr()); r != "" {
		return &blockedError{addr: ap.Addr().String(), reason: r}
	}
	return nil
}

// dial connects for the HTTP transport. The guard is in s.dialer.Control,
// not here, so it covers every address a socket is about to connect to,
// however it was found.
//
// With no custom Resolver, Go's dialer resolves the name itself and races
// IPv4 against IPv6 (RFC 8305), which matters where one of them is broken.
// With one (tests, or an operator's own DNS), dial resolves through it and
// tries the addresses in turn.
func (s *Sender) dial(ctx context.Context, network, address string) (net.Conn, error) {
	if s.opts.Resolver == nil {
		return s.dialer.DialContext(ctx, network, address)
	}
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("dial %s: bad port: %w", address, err)
	}
	lookupNet := "ip"
	switch network {
	case "tcp4":
		lookupNet = "ip4"
	case "tcp6":
		lookupNet = "ip6"
	}
	addrs, err := s.lookup(ctx, lookupNet, host)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	// Report a real connection error over a refusal when both happened
	// (one address refused, another unreachable): the refusal is only the
	// whole story when every address was refused.
	var firstBlocked, firstOther error
	for _, a := range addrs {
		c, err := s.dialer.DialContext(ctx, network, netip.AddrPortFrom(a.WithZone(""), uint16(port)).String())
		if err == nil {
			return c, nil
		}
		if _, ok := errors.AsType[*blockedError](err); ok {
			firstBlocked = cmpOr(firstBlocked, err)
		} else {
			firstOther = cmpOr(firstOther, err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, cmpOr(firstOther, firstBlocked)
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
