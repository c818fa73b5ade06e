package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/triggershq/triggers/pkg/event"
	"github.com/triggershq/triggers/pkg/webhook"
)

func BenchmarkSign(b *testing.B) {
	secret := event.NewSecret()
	body, _ := webhook.Body(testEvent())
	now := time.Now()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := webhook.Sign(secret, "msg_1", now, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSendLocal measures one attempt end to end against a loopback
// receiver over a kept-alive connection: the per-delivery cost of the
// sender itself.
func BenchmarkSendLocal(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	defer srv.Close()
	s := webhook.NewSender(webhook.Options{AllowPrivateNetworks: true})
	defer s.Close()
	secret := event.NewSecret()
	e := testEvent()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r := s.Send(context.Background(), srv.URL, secret, "msg_1", e); r.Outcome != event.OutcomeSuccess {
				b.Fatalf("got %+v", r)
			}
		}
	})
}
