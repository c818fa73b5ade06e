package httpapi

import (
	"fmt"
	"net/http"

	"github.com/triggershq/triggers/pkg/event"
)

// healthResponse is the body of a healthy GET /health.
type healthResponse struct {
	Status  string `json:"status"`
	Store   string `json:"store"`
	Version string `json:"version"`
}

// health answers whether this process can serve: it pings the store, and
// a store that cannot answer makes the service unavailable (503).
func (a *API) health(w http.ResponseWriter, r *http.Request) error {
	if err := a.store.Ping(r.Context()); err != nil {
		if event.ErrorCode(err) == event.CodeUnavailable {
			return err
		}
		a.log.WarnContext(r.Context(), "health: store ping failed", "error", err.Error())
		return &event.Error{Code: event.CodeUnavailable, Message: "the store is not available", RetryAfterSeconds: 5,
			Err: fmt.Errorf("health: ping store: %w", err)}
	}
	return writeJSON(w, http.StatusOK, healthResponse{Status: "ok", Store: "ok", Version: a.version})
}
