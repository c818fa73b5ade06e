package stream_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/triggershq/triggers/pkg/metrics"
)

// scrapeValue reads one sample without labels from the registry's
// exposition (-1 if absent).
func scrapeValue(t testing.TB, r *metrics.Registry, name string) float64 {
	t.Helper()
	var b strings.Builder
	if err := r.WriteText(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(b.String(), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return -1
}
