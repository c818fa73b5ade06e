package event_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

func TestValidateTargetURL(t *testing.T) {
	t.Parallel()
	long := "https://example.com/" + strings.Repeat("a", event.MaxTargetURLLen-len("https://example.com/"))
	valid := []string{
		"https://hooks.zapier.com/hooks/standard/123/abc/",
		"http://example.com",
		"HTTPS://Example.COM:8443/path?q=1&r=%20x",
		"https://example.com./trailing-dot",
		"http://93.184.216.34/hook",
		"http://[2606:2800:220:1:248:1893:25c8:1946]:8080/hook",
		"https://my_host.example.com/",
		"https://example.com/?", // empty query is sent as is
		long,
	}
	for _, raw := range valid {
		t.Run("valid "+raw[:min(len(raw), 60)], func(t *testing.T) {
			t.Parallel()
			if err := event.ValidateTargetURL(raw); err != nil {
				t.Fatalf("got %v, want nil", err)
			}
		})
	}
	invalid := map[string]string{
		"empty":                "",
		"too long":             long + "a",
		"relative":             "/hooks/1",
		"no scheme":            "example.com/hook",
		"ftp":                  "ftp://example.com/",
		"file":                 "file:///etc/passwd",
		"javascript":           "javascript:alert(1)",
		"gopher":               "gopher://example.com/",
		"opaque":               "http:example.com",
		"no host":              "http:///path",
		"empty host port":      "http://:80/",
		"userinfo":             "https://user:pass@example.com/",
		"user only":            "https://user@example.com/",
		"fragment":             "https://example.com/#frag",
		"empty fragment":       "https://example.com/#",
		"space":                "https://example.com/a b",
		"leading space":        " https://example.com/",
		"tab":                  "https://example.com/\t",
		"newline":              "https://example.com/\nx",
		"non-ascii host":       "https://exämple.com/",
		"non-ascii path":       "https://example.com/ä",
		"port zero":            "https://example.com:0/",
		"port too big":         "https://example.com:65536/",
		"bad port":             "https://example.com:http/",
		"empty label":          "https://example..com/",
		"bad host char":        "https://exa!mple.com/",
		"decimal ip":           "http://2130706433/",
		"short ip":             "http://127.1/",
		"hex ip":               "http://0x7f.0.0.1/",
		"hex last label":       "http://a.0x7f/",
		"octal ip":             "http://0177.0.0.1/",
		"ipv6 zone":            "http://[fe80::1%25eth0]/",
		"ipv6 no brackets":     "http://::1/",
		"label too long":       "https://" + strings.Repeat("a", 64) + ".com/",
		"backslash":            `https://example.com\@evil.com/`,
		"numeric tld":          "http://example.123/",
		"ipv4 in brackets":     "http://[127.0.0.1]/",
		"percent-encoded host": "http://%6c%6f%63%61%6c%68%6f%73%74/",
	}
	for name, raw := range invalid {
		t.Run("invalid "+name, func(t *testing.T) {
			t.Parallel()
			err := event.ValidateTargetURL(raw)
			var e *event.Error
			if !errors.As(err, &e) || e.Code != event.CodeInvalid || e.Field != "target_url" {
				t.Fatalf("got %v, want a validation_failed error on target_url", err)
			}
		})
	}
}

func TestNewSubscriptionValidate(t *testing.T) {
	t.Parallel()
	const target = "https://example.com/hook"
	many := make([]string, event.MaxEventTypePatterns+1)
	for i := range many {
		many[i] = fmt.Sprintf("t%d", i)
	}
	tests := []struct {
		name      string
		types     []string
		wantField string // "" means valid
	}{
		{"nil is all", nil, ""},
		{"empty is all", []string{}, ""},
		{"exact", []string{"order.created"}, ""},
		{"prefix", []string{"order.*"}, ""},
		{"star", []string{"*"}, ""},
		{"bare prefix", []string{"order*"}, ""},
		{"unicode", []string{"commande.créée"}, ""},
		{"max", many[:event.MaxEventTypePatterns], ""},
		{"duplicates are fine", []string{"a", "a"}, ""},
		{"too many", many, "event_types"},
		{"empty pattern", []string{"a", ""}, "event_types[1]"},
		{"star in the middle", []string{"order.*.created"}, "event_types[0]"},
		{"leading star", []string{"*.created"}, "event_types[0]"},
		{"two stars", []string{"**"}, "event_types[0]"},
		{"control char", []string{"a\x00b"}, "event_types[0]"},
		{"too long", []string{strings.Repeat("a", event.MaxTypeLen+1)}, "event_types[0]"},
		{"bad utf8", []string{"a\xffb"}, "event_types[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := event.NewSubscription{TargetURL: target, EventTypes: tt.types}.Validate()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			var e *event.Error
			if !errors.As(err, &e) || e.Code != event.CodeInvalid || e.Field != tt.wantField {
				t.Fatalf("got %v, want validation_failed on %s", err, tt.wantField)
			}
		})
	}
	t.Run("bad target", func(t *testing.T) {
		t.Parallel()
		err := event.NewSubscription{TargetURL: "ftp://x"}.Validate()
		if event.ErrorCode(err) != event.CodeInvalid {
			t.Fatalf("got %v, want validation_failed", err)
		}
	})
}

func TestMatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		patterns []string
		typ      string
		want     bool
	}{
		{nil, "anything", true},
		{[]string{}, "anything", true},
		{[]string{"*"}, "anything", true},
		{[]string{"order.created"}, "order.created", true},
		{[]string{"order.created"}, "order.created.v2", false},
		{[]string{"order.created"}, "Order.Created", false},
		{[]string{"order.*"}, "order.created", true},
		{[]string{"order.*"}, "order.item.added", true},
		{[]string{"order.*"}, "order", false},
		{[]string{"order.*"}, "orders.created", false},
		{[]string{"order.*"}, "order.", true},
		{[]string{"order*"}, "orders", true},
		{[]string{"user.*", "order.created"}, "order.created", true},
		{[]string{"user.*", "order.created"}, "order.paid", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v/%s", tt.patterns, tt.typ), func(t *testing.T) {
			t.Parallel()
			s := event.Subscription{EventTypes: tt.patterns}
			if got := s.Matches(tt.typ); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBuild(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 10, 0, 0, 123456789, time.FixedZone("x", 3600))
	s := event.NewSubscription{TargetURL: "https://example.com/h", EventTypes: []string{"b", "a", "b"}}.Build("id", "whsec_x", now)
	if got, want := fmt.Sprint(s.EventTypes), "[b a]"; got != want {
		t.Errorf("event types: got %v, want %v", got, want)
	}
	if !s.Active() || s.Status != event.SubscriptionActive {
		t.Errorf("status: got %v, want active", s.Status)
	}
	if !s.CreatedAt.Equal(event.Timestamp(now)) || s.CreatedAt.Location() != time.UTC || !s.UpdatedAt.Equal(s.CreatedAt) {
		t.Errorf("times: got %v/%v, want %v", s.CreatedAt, s.UpdatedAt, event.Timestamp(now))
	}
	empty := event.NewSubscription{TargetURL: "https://example.com/h"}.Build("id", "whsec_x", now)
	b, err := json.Marshal(empty)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"event_types":[]`)) {
		t.Errorf("got %s, want event_types []", b)
	}
}

func TestSubscriptionKeepsSecretsOutOfText(t *testing.T) {
	t.Parallel()
	secret := event.NewSecret()
	const capability = "hooks/standard/123/SECRETPATH"
	s := event.NewSubscription{TargetURL: "https://hooks.example.com/" + capability + "?token=SECRETQUERY"}.
		Build("0190a0b0-0000-7000-8000-000000000000", secret, time.Unix(0, 0))

	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("sub", "subscription", s, "ptr", &s)
	j, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v", s),
		"%+v":  fmt.Sprintf("%+v", s),
		"%#v":  fmt.Sprintf("%#v", s),
		"ptr":  fmt.Sprint(&s),
		"list": fmt.Sprintf("%v", []event.Subscription{s}),
		"err":  fmt.Errorf("op: %v", s).Error(),
		"slog": logged.String(),
		"json": string(j),
	}
	for name, out := range outputs {
		keyPart := strings.TrimPrefix(secret, event.SecretPrefix)
		if strings.Contains(out, keyPart) {
			t.Errorf("%s: got %q, which contains the secret", name, out)
		}
		if name != "json" && (strings.Contains(out, "SECRETPATH") || strings.Contains(out, "SECRETQUERY")) {
			t.Errorf("%s: got %q, which contains the target URL's path or query", name, out)
		}
		if name != "json" && !strings.Contains(out, "hooks.example.com") {
			t.Errorf("%s: got %q, want the target host for debugging", name, out)
		}
	}
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		s := event.NewSecret()
		rest, ok := strings.CutPrefix(s, "whsec_")
		if !ok {
			t.Fatalf("got %q, want the whsec_ prefix", s)
		}
		key, err := base64.StdEncoding.DecodeString(rest)
		if err != nil || len(key) != 32 {
			t.Fatalf("got %d bytes (err %v), want 32", len(key), err)
		}
		if seen[s] {
			t.Fatalf("got a repeated secret %q", s)
		}
		seen[s] = true
	}
}

func TestDeliveryID(t *testing.T) {
	t.Parallel()
	const e1, e2 = "0190a0b0-0000-7000-8000-000000000001", "0190a0b0-0000-7000-8000-000000000002"
	const s1, s2 = "0190a0b0-0000-7000-8000-0000000000a1", "0190a0b0-0000-7000-8000-0000000000a2"
	id := event.DeliveryID(e1, s1)
	if again := event.DeliveryID(e1, s1); again != id {
		t.Fatalf("got %q then %q, want the same id", id, again)
	}
	// Recomputed independently: a change of algorithm would make every
	// in-flight delivery look new after an upgrade.
	sum := sha256.Sum256([]byte(e1 + "\n" + s1))
	want := "msg_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:20]))
	if id != want {
		t.Fatalf("got %q, want %q", id, want)
	}
	if len(id) > 64 || strings.Trim(id[4:], "abcdefghijklmnopqrstuvwxyz234567") != "" {
		t.Fatalf("got %q, want msg_ and at most 60 base32 characters", id)
	}
	others := []string{event.DeliveryID(e2, s1), event.DeliveryID(e1, s2), event.DeliveryID(s1, e1), event.DeliveryID(e1+"\n", s1[1:])}
	for _, o := range others {
		if o == id {
			t.Fatalf("got %q for different inputs, want distinct ids", o)
		}
	}
	// Many pairs, no collision.
	seen := map[string]bool{}
	for i := range 100 {
		for j := range 100 {
			d := event.DeliveryID(fmt.Sprint("e", i), fmt.Sprint("s", j))
			if seen[d] {
				t.Fatalf("collision at %d,%d", i, j)
			}
			seen[d] = true
		}
	}
}

func TestNewDelivery(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 10, 0, 0, 999, time.UTC)
	d := event.NewDelivery("e", "s", now)
	if d.ID != event.DeliveryID("e", "s") || d.State != event.DeliveryPending || d.Attempts != 0 ||
		!d.NextAttemptAt.Equal(event.Timestamp(now)) || d.EventID != "e" || d.SubscriptionID != "s" {
		t.Fatalf("got %+v, want a pending delivery due now", d)
	}
}

func TestAttemptJSON(t *testing.T) {
	t.Parallel()
	a := event.Attempt{
		DeliveryID: "msg_x", SubscriptionID: "s", EventID: "e", N: 3,
		At:         time.Date(2026, 11, 28, 10, 0, 0, 5000, time.UTC),
		StatusCode: 503, Latency: 12345 * time.Microsecond, Error: "HTTP 503", Outcome: event.OutcomeRetry,
	}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"latency_ms":12.345`, `"attempt":3`, `"outcome":"retry"`, `"status_code":503`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("got %s, want it to contain %s", b, want)
		}
	}
	var back event.Attempt
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back != a {
		t.Fatalf("got %+v, want %+v", back, a)
	}
}

func TestParseSubscriptionID(t *testing.T) {
	t.Parallel()
	var ids event.IDs
	id := ids.New(time.Now())
	got, err := event.ParseSubscriptionID(strings.ToUpper(id))
	if err != nil || got != id {
		t.Fatalf("got %q, %v, want %q", got, err, id)
	}
	for _, bad := range []string{"", "nope", strings.Repeat("a", 100), "0190a0b0-0000-4000-8000-000000000000"} {
		_, err := event.ParseSubscriptionID(bad)
		var e *event.Error
		if !errors.As(err, &e) || e.Code != event.CodeNotFound || strings.Contains(e.Message, "event") {
			t.Fatalf("%q: got %v, want a subscription not_found", bad, err)
		}
	}
}

func TestDeliverySupersedes(t *testing.T) {
	t.Parallel()
	at := func(n int, s event.DeliveryState) event.Delivery { return event.Delivery{Attempts: n, State: s} }
	const (
		pending   = event.DeliveryPending
		succeeded = event.DeliverySucceeded
		failed    = event.DeliveryFailed
		dead      = event.DeliveryDead
	)
	tests := []struct {
		name        string
		next, store event.Delivery
		want        bool
	}{
		{"next attempt", at(2, pending), at(1, pending), true},
		{"next attempt ends it", at(2, succeeded), at(1, pending), true},
		{"same attempt ends a pending one", at(1, succeeded), at(1, pending), true},
		{"same attempt, dead", at(1, dead), at(1, pending), true},
		{"same attempt reopens an ended one", at(1, pending), at(1, succeeded), false},
		{"same attempt, another end", at(1, failed), at(1, succeeded), false},
		{"same attempt again, pending", at(1, pending), at(1, pending), false},
		{"older attempt", at(1, succeeded), at(2, pending), false},
		{"fresh record", at(1, pending), at(0, pending), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.next.Supersedes(tt.store); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
