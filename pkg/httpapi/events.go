package httpapi

import (
	"net/http"
	"time"

	"github.com/triggershq/triggers/pkg/event"
)

// createdResponse is the seed's POST /events answer.
type createdResponse struct {
	ID        string       `json:"id"`
	Status    event.Status `json:"status"`
	Timestamp time.Time    `json:"timestamp"`
}

// The members of a POST /events body that we read; others are ignored, as
// the seed's FastAPI models did.
const (
	fieldType    = "type"
	fieldSource  = "source"
	fieldPayload = "payload"
)

const idempotencyHeader = "Idempotency-Key"

// createEvent stores a new pending event. The checks run from the outside
// in: media type (415), size (413), JSON syntax (400), then every field
// (422, all reported at once); only a valid event reaches the store.
func (a *API) createEvent(w http.ResponseWriter, r *http.Request) error {
	if requestMedia(r) != mediaJSON {
		return unsupportedMedia(w, r, jsonMediaTypes, "application/json")
	}
	body, err := readBody(w, r, a.maxBody)
	if err != nil {
		return err
	}
	n, err := decodeNewEvent(body, r.Header.Values(idempotencyHeader))
	if err != nil {
		return err
	}
	now := a.now()
	e := n.Build(a.ids.New(now), now, a.retention)
	stored, replayed, err := a.store.Put(r.Context(), e)
	if err != nil {
		return locate("body", err)
	}
	infoFrom(r.Context()).eventID = stored.ID
	h := w.Header()
	h.Set("Location", "/events/"+stored.ID)
	if replayed {
		h.Set("Idempotent-Replayed", "true")
	}
	// A replay repeats the original answer, so its status is the one the
	// event was created with even if it has been acknowledged since.
	return writeJSON(w, http.StatusCreated, createdResponse{ID: stored.ID, Status: event.StatusPending, Timestamp: stored.CreatedAt})
}

// decodeNewEvent reads and validates a POST /events body and its
// Idempotency-Key header values. Payload bytes are kept as sent.
func decodeNewEvent(body []byte, idempotencyKeys []string) (event.NewEvent, error) {
	obj, err := decodeObject(body, fieldType, fieldSource, fieldPayload)
	if err != nil {
		return event.NewEvent{}, err
	}
	var n event.NewEvent
	var errs fieldErrors
	if s, ferr := obj.stringField(fieldType); ferr != nil {
		errs = append(errs, ferr)
	} else if err := event.ValidateName(fieldType, s, event.MaxTypeLen); err != nil {
		errs = append(errs, domainField("body", err))
	} else {
		n.Type = s
	}
	if s, ferr := obj.stringField(fieldSource); ferr != nil {
		errs = append(errs, ferr)
	} else if err := event.ValidateName(fieldSource, s, event.MaxSourceLen); err != nil {
		errs = append(errs, domainField("body", err))
	} else {
		n.Source = s
	}
	switch p, ok := obj[fieldPayload]; {
	case !ok:
		errs = append(errs, invalidIn("body", kindMissing, fieldPayload, "payload is required and must be a JSON object"))
	case p[0] != '{':
		errs = append(errs, invalidIn("body", kindObjectType, fieldPayload, "payload must be a JSON object, got %s", jsonKind(p)))
	default:
		n.Payload = p
	}
	switch {
	case len(idempotencyKeys) > 1:
		errs = append(errs, invalidIn("header", kindValue, idempotencyHeader, "send at most one Idempotency-Key header"))
	case len(idempotencyKeys) == 1:
		if err := event.ValidateIdempotencyKey(idempotencyKeys[0]); err != nil {
			errs = append(errs, domainField("header", err))
		} else {
			n.IdempotencyKey = idempotencyKeys[0]
		}
	}
	if err := errs.orNil(); err != nil {
		return event.NewEvent{}, err
	}
	// The checks above are the domain's own plus the JSON types; this is
	// the domain's last word (payload UTF-8 among others).
	if err := n.Validate(); err != nil {
		return event.NewEvent{}, domainField("body", err)
	}
	return n, nil
}

// getEvent returns one event in any status. A malformed id is not found.
func (a *API) getEvent(w http.ResponseWriter, r *http.Request) error {
	id, err := event.ParseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	e, err := a.store.Get(r.Context(), id)
	if err != nil {
		return err
	}
	infoFrom(r.Context()).eventID = e.ID
	return writeJSON(w, http.StatusOK, e)
}

// ackEvent marks an event delivered; acknowledging it again is harmless
// and answers the same way. The body is ignored (axios sends {}, requests
// sends nothing).
func (a *API) ackEvent(w http.ResponseWriter, r *http.Request) error {
	id, err := event.ParseID(r.PathValue("id"))
	if err != nil {
		return err
	}
	e, _, err := a.store.Ack(r.Context(), id)
	if err != nil {
		return err
	}
	infoFrom(r.Context()).eventID = e.ID
	return writeJSON(w, http.StatusOK, e)
}
