package webhook_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/webhook"
)

func TestScheduleBounds(t *testing.T) {
	t.Parallel()
	p := webhook.DefaultPolicy()
	if p.MaxAttempts() < 8 {
		t.Fatalf("got %d attempts, want at least 8", p.MaxAttempts())
	}
	if d, giveUp := p.Next(0, 0, nil); d != 0 || giveUp {
		t.Fatalf("first attempt: got %v %v, want immediate", d, giveUp)
	}
	var baseTotal time.Duration
	for _, d := range p.Delays {
		baseTotal += d
	}
	if baseTotal < 20*time.Hour || baseTotal > 28*time.Hour {
		t.Fatalf("got a base span of %v, want about a day", baseTotal)
	}

	minTotal, maxTotal := time.Duration(1<<62), time.Duration(0)
	firstDelays := map[time.Duration]bool{}
	for seed := range uint64(2000) {
		rnd := rand.New(rand.NewPCG(seed, seed*7+1))
		var total, prev time.Duration
		for attempt := 1; ; attempt++ {
			d, giveUp := p.Next(attempt, 0, rnd)
			if giveUp {
				if attempt != p.MaxAttempts() {
					t.Fatalf("seed %d: gave up after %d attempts, want %d", seed, attempt, p.MaxAttempts())
				}
				break
			}
			base := p.Delays[attempt-1]
			lo, hi := time.Duration(float64(base)*(1-p.Jitter)), time.Duration(float64(base)*(1+p.Jitter))
			if d < lo || d > hi {
				t.Fatalf("seed %d attempt %d: got %v, want within [%v, %v]", seed, attempt, d, lo, hi)
			}
			if attempt > 2 && d < prev/2 {
				t.Fatalf("seed %d attempt %d: got %v after %v, want the backoff to keep growing", seed, attempt, d, prev)
			}
			if attempt == 1 {
				firstDelays[d] = true
			}
			prev = d
			total += d
		}
		minTotal, maxTotal = min(minTotal, total), max(maxTotal, total)
	}
	if minTotal < 16*time.Hour || maxTotal > 32*time.Hour {
		t.Fatalf("got total spans from %v to %v, want about a day", minTotal, maxTotal)
	}
	if len(firstDelays) < 1000 {
		t.Fatalf("got %d distinct first delays over 2000 seeds, want jitter", len(firstDelays))
	}
	t.Logf("total span over 2000 seeds: %v .. %v", minTotal, maxTotal)
}

func TestNextDeterministicWithSeed(t *testing.T) {
	t.Parallel()
	p := webhook.DefaultPolicy()
	a, _ := p.Next(3, 0, rand.New(rand.NewPCG(9, 9)))
	b, _ := p.Next(3, 0, rand.New(rand.NewPCG(9, 9)))
	if a != b {
		t.Fatalf("got %v and %v from the same seed, want equal", a, b)
	}
}

func TestRetryAfterHonouredAndCapped(t *testing.T) {
	t.Parallel()
	p := webhook.DefaultPolicy()
	tests := []struct {
		name       string
		attempt    int
		retryAfter time.Duration
		lo, hi     time.Duration
	}{
		{"longer than backoff wins", 1, 3 * time.Hour, 3 * time.Hour, 3 * time.Hour},
		{"capped", 1, 48 * time.Hour, p.MaxRetryAfter, p.MaxRetryAfter},
		{"shorter never brings it forward", 5, time.Second, 45 * time.Minute, 75 * time.Minute},
		{"zero is no advice", 2, 0, 90 * time.Second, 150 * time.Second},
		{"backoff above the cap still applies", 9, 24 * time.Hour, 6 * time.Hour, 10 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for seed := range uint64(200) {
				d, giveUp := p.Next(tt.attempt, tt.retryAfter, rand.New(rand.NewPCG(seed, 1)))
				if giveUp || d < tt.lo || d > tt.hi {
					t.Fatalf("seed %d: got %v (give up %v), want within [%v, %v]", seed, d, giveUp, tt.lo, tt.hi)
				}
			}
		})
	}
	if _, giveUp := p.Next(p.MaxAttempts(), time.Minute, nil); !giveUp {
		t.Fatal("got another attempt after the last, want give up even with Retry-After")
	}
}

func TestZeroPolicyIsDefault(t *testing.T) {
	t.Parallel()
	var zero webhook.Policy
	def := webhook.DefaultPolicy()
	if zero.MaxAttempts() != def.MaxAttempts() {
		t.Fatalf("got %d, want %d", zero.MaxAttempts(), def.MaxAttempts())
	}
	for attempt := 1; attempt <= def.MaxAttempts(); attempt++ {
		a, ga := zero.Next(attempt, 0, rand.New(rand.NewPCG(1, 1)))
		b, gb := def.Next(attempt, 0, rand.New(rand.NewPCG(1, 1)))
		if a != b || ga != gb {
			t.Fatalf("attempt %d: got %v/%v, want %v/%v", attempt, a, ga, b, gb)
		}
	}
	custom := webhook.Policy{Delays: []time.Duration{time.Second}}
	if custom.MaxAttempts() != 2 {
		t.Fatalf("got %d attempts, want 2", custom.MaxAttempts())
	}
}

func TestApply(t *testing.T) {
	t.Parallel()
	p := webhook.DefaultPolicy()
	start := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	fresh := event.NewDelivery("e1", "s1", start)
	result := func(o event.Outcome, code int) webhook.Result {
		return webhook.Result{At: start, StatusCode: code, Latency: 250 * time.Millisecond, Outcome: o, Err: "x"}
	}
	tests := []struct {
		name     string
		before   event.Delivery
		result   webhook.Result
		want     event.DeliveryState
		wantNext bool
	}{
		{"success", fresh, result(event.OutcomeSuccess, 200), event.DeliverySucceeded, false},
		{"gone", fresh, result(event.OutcomeGone, 410), event.DeliveryFailed, false},
		{"failed", fresh, result(event.OutcomeFailed, 404), event.DeliveryFailed, false},
		{"retry", fresh, result(event.OutcomeRetry, 503), event.DeliveryPending, true},
		{"unknown outcome", fresh, result("weird", 0), event.DeliveryFailed, false},
		{"last retry", withAttempts(fresh, p.MaxAttempts()-1), result(event.OutcomeRetry, 500), event.DeliveryDead, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, a := p.Apply(tt.before, tt.result, rand.New(rand.NewPCG(1, 1)))
			if d.State != tt.want || d.Attempts != tt.before.Attempts+1 {
				t.Fatalf("got %s after %d, want %s after %d", d.State, d.Attempts, tt.want, tt.before.Attempts+1)
			}
			if tt.wantNext != !d.NextAttemptAt.IsZero() {
				t.Fatalf("got next attempt at %v, want set=%v", d.NextAttemptAt, tt.wantNext)
			}
			end := start.Add(250 * time.Millisecond)
			if tt.wantNext && (d.NextAttemptAt.Before(end.Add(22*time.Second)) || d.NextAttemptAt.After(end.Add(38*time.Second))) {
				t.Fatalf("got next attempt at %v, want about 30 s after %v", d.NextAttemptAt, end)
			}
			if !d.UpdatedAt.Equal(end) || d.ID != tt.before.ID || d.CreatedAt != tt.before.CreatedAt {
				t.Fatalf("got %+v, want updated at the end of the attempt, identity kept", d)
			}
			want := event.Attempt{DeliveryID: d.ID, SubscriptionID: "s1", EventID: "e1", N: d.Attempts,
				At: start, StatusCode: tt.result.StatusCode, Latency: 250 * time.Millisecond, Error: "x", Outcome: tt.result.Outcome}
			if a != want {
				t.Fatalf("got attempt %+v, want %+v", a, want)
			}
		})
	}
}

func withAttempts(d event.Delivery, n int) event.Delivery {
	d.Attempts = n
	return d
}

func TestHealthAndDisable(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	p := webhook.DefaultPolicy()
	// failures returns n failed attempts, newest first, the oldest at oldest.
	failures := func(n int, oldest time.Time, o event.Outcome) []event.Attempt {
		out := make([]event.Attempt, n)
		for i := range out {
			out[i] = event.Attempt{Outcome: o, At: oldest.Add(time.Duration(n-1-i) * time.Minute)}
		}
		return out
	}
	success := event.Attempt{Outcome: event.OutcomeSuccess, At: now.Add(-48 * time.Hour)}

	tests := []struct {
		name      string
		recent    []event.Attempt
		exhausted bool
		want      bool
	}{
		{"healthy", []event.Attempt{success}, false, false},
		{"no attempts", nil, false, false},
		{"exhausted delivery", failures(10, now.Add(-20*time.Hour), event.OutcomeRetry), true, true},
		{"10 permanent failures over a day", failures(10, now.Add(-25*time.Hour), event.OutcomeFailed), false, true},
		{"10 failures within an hour", failures(10, now.Add(-time.Hour), event.OutcomeFailed), false, false},
		{"9 failures over two days", failures(9, now.Add(-48*time.Hour), event.OutcomeFailed), false, false},
		{"a success ends the run", append(failures(5, now.Add(-25*time.Hour), event.OutcomeFailed),
			append([]event.Attempt{success}, failures(20, now.Add(-72*time.Hour), event.OutcomeFailed)...)...), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := webhook.HealthFrom(tt.recent)
			h.Exhausted = tt.exhausted
			reason, disable := p.ShouldDisable(h, now)
			if disable != tt.want || (disable && reason == "") || (!disable && reason != "") {
				t.Fatalf("got %v %q, want %v with a reason when disabling", disable, reason, tt.want)
			}
		})
	}
	h := webhook.HealthFrom(append(failures(3, now.Add(-time.Hour), event.OutcomeRetry), success))
	if h.ConsecutiveFailures != 3 || !h.FailingSince.Equal(now.Add(-time.Hour)) {
		t.Fatalf("got %+v, want 3 failures since an hour ago", h)
	}
	reason, _ := p.ShouldDisable(webhook.Health{ConsecutiveFailures: 12, FailingSince: now.Add(-30 * time.Hour)}, now)
	if !strings.Contains(reason, "12 consecutive failed attempts") {
		t.Fatalf("got %q, want the count in the reason", reason)
	}
}
