package httpapi

import (
	"slices"

	"github.com/triggershq/triggers/pkg/event"
)

// ProblemCodes returns every code the status table knows, sorted, so the
// OpenAPI contract test can hold the document's code enum to it.
func ProblemCodes() []event.Code {
	out := make([]event.Code, 0, len(statusByCode))
	for c := range statusByCode {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}
