package webhook_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/webhook"
)

func TestPublicAddr(t *testing.T) {
	t.Parallel()
	refused := []string{
		// IPv4
		"0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "100.64.0.1", "100.127.255.255",
		"127.0.0.1", "127.255.255.254", "169.254.169.254", "169.254.0.1", "172.16.0.1",
		"172.31.255.255", "192.0.0.8", "192.0.2.1", "192.88.99.1", "192.168.0.1", "192.168.255.255",
		"198.18.0.1", "198.19.255.255", "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.255.255.250",
		"240.0.0.1", "255.255.255.255",
		// IPv6
		"::", "::1", "fe80::1", "fe80::1%eth0", "febf::1", "fc00::1", "fd12:3456:789a::1", "ff02::1",
		"ff0e::1", "fec0::1", "100::1", "::127.0.0.1", "2001:db8::1", "2001::1", "2002:7f00:1::1",
		"3fff::1", "64:ff9b:1::a00:1",
		// IPv4 inside IPv6
		"::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "::ffff:0.0.0.0",
		"::ffff:0:127.0.0.1", "64:ff9b::127.0.0.1", "64:ff9b::169.254.169.254", "64:ff9b::10.0.0.1",
		"64:ff9b::192.168.1.1",
	}
	allowed := []string{
		"8.8.8.8", "1.1.1.1", "93.184.216.34", "9.255.255.255", "11.0.0.0", "100.63.255.255",
		"100.128.0.0", "126.255.255.255", "128.0.0.0", "169.253.255.255", "169.255.0.0",
		"172.15.255.255", "172.32.0.0", "192.167.255.255", "192.169.0.0", "223.255.255.255",
		"2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "2001:4860:4860::8888",
		"::ffff:8.8.8.8", "64:ff9b::8.8.8.8",
	}
	for _, s := range refused {
		if webhook.PublicAddr(netip.MustParseAddr(s)) {
			t.Errorf("%s: got public, want refused", s)
		}
	}
	for _, s := range allowed {
		if !webhook.PublicAddr(netip.MustParseAddr(s)) {
			t.Errorf("%s: got refused, want public", s)
		}
	}
	if webhook.PublicAddr(netip.Addr{}) {
		t.Error("the zero Addr: got public, want refused")
	}
}

func TestCheckTarget(t *testing.T) {
	t.Parallel()
	var lookups atomic.Int32
	names := staticResolver(map[string][]string{
		"public.example":   {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"},
		"private.example":  {"10.0.0.5"},
		"mixed.example":    {"93.184.216.34", "127.0.0.1"},
		"metadata.example": {"169.254.169.254"},
		"v6loop.example":   {"::1"},
		"mapped.example":   {"::ffff:127.0.0.1"},
		"nat64.example":    {"64:ff9b::a9fe:a9fe"},
		"cgnat.example":    {"100.64.1.1"},
		"localhost":        {"127.0.0.1", "::1"},
		"empty.example":    {},
	})
	counting := webhook.ResolverFunc(func(ctx context.Context, network, host string) ([]netip.Addr, error) {
		lookups.Add(1)
		return names(ctx, network, host)
	})
	guarded := webhook.NewSender(webhook.Options{Resolver: counting})
	open := webhook.NewSender(webhook.Options{Resolver: counting, AllowPrivateNetworks: true})

	tests := []struct {
		url         string
		wantGuarded string // "" allowed; else a substring of the client message
		wantOpen    string
	}{
		{"https://public.example/hook", "", ""},
		{"http://93.184.216.34:8080/hook", "", ""},
		{"http://[2606:4700:4700::1111]/hook", "", ""},
		{"https://private.example/hook", "public internet addresses", ""},
		{"https://mixed.example/hook", "public internet addresses", ""},
		{"http://metadata.example/latest/meta-data/", "public internet addresses", ""},
		{"http://v6loop.example/", "public internet addresses", ""},
		{"http://mapped.example/", "public internet addresses", ""},
		{"http://nat64.example/", "public internet addresses", ""},
		{"http://cgnat.example/", "public internet addresses", ""},
		{"http://localhost:8080/", "public internet addresses", ""},
		{"http://127.0.0.1:8080/", "public internet addresses", ""},
		{"http://169.254.169.254/latest/meta-data/", "public internet addresses", ""},
		{"http://0.0.0.0/", "public internet addresses", ""},
		{"http://10.1.2.3/", "public internet addresses", ""},
		{"http://[::1]/", "public internet addresses", ""},
		{"http://[::ffff:7f00:1]/", "public internet addresses", ""},
		{"http://[::ffff:169.254.169.254]/", "public internet addresses", ""},
		{"http://[fd00::1]/", "public internet addresses", ""},
		{"http://[fe80::1]/", "public internet addresses", ""},
		{"http://255.255.255.255/", "public internet addresses", ""},
		{"http://224.0.0.1/", "public internet addresses", ""},
		{"https://nx.example/", "could not be resolved", ""},
		{"https://empty.example/", "could not be resolved", ""},
		{"ftp://public.example/", "http or https", "http or https"},
		{"https://user:pw@public.example/", "user name", "user name"},
		{"http://2130706433/", "canonical IPv4", "canonical IPv4"},
		{"http://127.1/", "canonical IPv4", "canonical IPv4"},
		{"", "required", "required"},
	}
	var refusal string
	for _, tt := range tests {
		for _, c := range []struct {
			name string
			s    *webhook.Sender
			want string
		}{{"guarded", guarded, tt.wantGuarded}, {"opt-in", open, tt.wantOpen}} {
			err := c.s.CheckTarget(context.Background(), tt.url)
			if c.want == "" {
				if err != nil {
					t.Errorf("%s %s: got %v, want nil", c.name, tt.url, err)
				}
				continue
			}
			var e *event.Error
			if !errors.As(err, &e) || e.Code != event.CodeInvalid || e.Field != "target_url" || !strings.Contains(e.Message, c.want) {
				t.Errorf("%s %s: got %v, want a 422 on target_url saying %q", c.name, tt.url, err, c.want)
				continue
			}
			// Every refused address gets the same message, which names
			// neither the address nor its kind, so the API cannot be used
			// to map internal DNS; the log cause has both.
			if strings.Contains(c.want, "public internet") {
				if refusal == "" {
					refusal = e.Message
				}
				if e.Message != refusal {
					t.Errorf("%s %s: got message %q, want the same as every refusal: %q", c.name, tt.url, e.Message, refusal)
				}
			}
			for _, leak := range []string{"10.0.0.5", "127.0.0.1", "169.254", "::1", "100.64"} {
				if strings.Contains(e.Message, leak) {
					t.Errorf("%s %s: message %q reveals %q", c.name, tt.url, e.Message, leak)
				}
			}
		}
	}
	// The opt-in does not resolve names at all.
	before := lookups.Load()
	if err := open.CheckTarget(context.Background(), "http://nx.example/"); err != nil || lookups.Load() != before {
		t.Fatalf("opt-in: got %v and %d lookups, want nil and none", err, lookups.Load()-before)
	}
	err := guarded.CheckTarget(context.Background(), "http://metadata.example/")
	if !strings.Contains(err.Error(), "169.254.169.254") || !strings.Contains(err.Error(), "link-local") {
		t.Fatalf("got log text %q, want the address and its kind for the operator", err)
	}
}

// TestDNSRebindingIsCaughtAtConnect subscribes a name that resolves to a
// public address, then has it resolve to loopback when the sender dials:
// the dialer's own check refuses the connection.
func TestDNSRebindingIsCaughtAtConnect(t *testing.T) {
	t.Parallel()
	secret := event.NewSecret()
	rcv := newReceiver(t, secret)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(rcv.URL, "http://"))

	var calls atomic.Int32
	rebinding := webhook.ResolverFunc(func(_ context.Context, _, host string) ([]netip.Addr, error) {
		if calls.Add(1) == 1 {
			return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
		}
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	})
	s := webhook.NewSender(webhook.Options{Resolver: rebinding})
	t.Cleanup(s.Close)
	target := "http://rebind.example:" + port + "/hook"

	if err := s.CheckTarget(context.Background(), target); err != nil {
		t.Fatalf("subscribe time: got %v, want the public address accepted", err)
	}
	res := s.Send(context.Background(), target, secret, "msg_1", testEvent())
	if res.Outcome != event.OutcomeFailed || !strings.Contains(res.Err, "not a public internet address") {
		t.Fatalf("got %+v, want a failed attempt refused by the guard", res)
	}
	if res.Cause == nil || !strings.Contains(res.Cause.Error(), "loopback") {
		t.Fatalf("got cause %v, want the dialer's loopback refusal", res.Cause)
	}
	if strings.Contains(res.Err, "127.0.0.1") {
		t.Fatalf("got %q, which names the internal address", res.Err)
	}
	if n := len(rcv.requests()); n != 0 {
		t.Fatalf("got %d requests at the loopback receiver, want 0", n)
	}
}

// TestGuardAtConnectWithoutResolver covers the production dial path (Go's
// own resolver and dialer) and literal addresses, which were never checked
// by anyone before the dialer: only its Control stands between them and the
// connection. "localhost" resolves through the system's hosts file.
func TestGuardAtConnectWithoutResolver(t *testing.T) {
	t.Parallel()
	secret := event.NewSecret()
	rcv := newReceiver(t, secret)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(rcv.URL, "http://"))
	s := webhook.NewSender(webhook.Options{})
	t.Cleanup(s.Close)
	for _, host := range []string{"127.0.0.1", "[::ffff:127.0.0.1]", "[::1]", "localhost"} {
		res := s.Send(context.Background(), "http://"+host+":"+port+"/", secret, "msg_1", testEvent())
		if res.Outcome != event.OutcomeFailed || !strings.Contains(res.Err, "not a public internet address") {
			t.Errorf("%s: got %+v, want refused by the guard", host, res)
		}
	}
	if n := len(rcv.requests()); n != 0 {
		t.Fatalf("got %d requests, want 0", n)
	}
}

func TestOptInAllowsLoopback(t *testing.T) {
	t.Parallel()
	secret := event.NewSecret()
	rcv := newReceiver(t, secret)
	s := webhook.NewSender(webhook.Options{AllowPrivateNetworks: true})
	t.Cleanup(s.Close)
	if err := s.CheckTarget(context.Background(), rcv.URL); err != nil {
		t.Fatalf("got %v, want loopback allowed", err)
	}
	if res := s.Send(context.Background(), rcv.URL, secret, "msg_1", testEvent()); res.Outcome != event.OutcomeSuccess {
		t.Fatalf("got %+v, want success", res)
	}
}
