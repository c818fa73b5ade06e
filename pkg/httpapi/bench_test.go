package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The cost of the HTTP layer itself (middleware, routing, decoding,
// encoding) next to a store call: run with -bench . -benchmem.

func BenchmarkHealth(b *testing.B) {
	e := newEnv(b, nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, httptest.NewRequest("GET", "/health", nil))
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}

func BenchmarkCreateEventRejected(b *testing.B) {
	// Everything up to the store, without its fsync: a 422 after full decoding.
	e := newEnv(b, nil)
	tok := e.token(keyWrite)
	body := `{"type":"user.created","source":"web-app","payload":{"user_id":"12345","n":1.5}, "source":""}`
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/events", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+tok)
		r.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, r)
		if rec.Code != http.StatusUnprocessableEntity {
			b.Fatal(rec.Code, rec.Body)
		}
	}
}

func BenchmarkCreateEvent(b *testing.B) {
	e := newEnv(b, nil)
	tok := e.token(keyWrite)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("POST", "/events", strings.NewReader(validBody))
			r.Header.Set("Authorization", "Bearer "+tok)
			r.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			e.handler.ServeHTTP(rec, r)
			if rec.Code != http.StatusCreated {
				b.Fatal(rec.Code, rec.Body)
			}
		}
	})
}

func BenchmarkInbox100(b *testing.B) {
	e := newEnv(b, nil)
	tok := e.token(keyFull)
	for range 200 {
		e.createEvent(tok, "bench", "bench", `{"k":"v"}`)
	}
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("GET", "/inbox?limit=100", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
