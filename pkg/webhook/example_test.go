package webhook_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/triggershq/triggers/pkg/webhook"
)

// A receiver verifies the raw body before it trusts it, answers 2xx at once,
// and drops repeated webhook-ids (delivery is at least once).
func ExampleVerify() {
	const secret = "whsec_dHJpZ2dlcnMtZG9jcy1leGFtcGxlLXNpZ25pbmctMzI="
	seen := map[string]bool{}
	receive := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		if err := webhook.Verify(secret, r.Header, body, 5*time.Minute); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if id := r.Header.Get(webhook.HeaderID); !seen[id] {
			seen[id] = true
			fmt.Println("accepted", id)
		}
		w.WriteHeader(http.StatusNoContent)
	}

	// What the sender does, by hand.
	body := `{"id":"019ac9f1-5a00-7c3e-9d2a-4b1f0e8c7a61","type":"order.created","source":"shop","payload":{},"created_at":"2026-11-28T10:00:00Z"}`
	now := time.Now()
	sig, _ := webhook.Sign(secret, "msg_example", now, []byte(body))
	for _, signature := range []string{sig, sig, "v1,forged"} {
		req := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body))
		req.Header.Set(webhook.HeaderID, "msg_example")
		req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(webhook.HeaderSignature, signature)
		rec := httptest.NewRecorder()
		receive(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// accepted msg_example
	// 204
	// 204
	// 401
}
