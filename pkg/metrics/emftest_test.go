package metrics_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

// emfLine is one parsed EMF line: the metric values by name, with the
// directive's namespace, dimensions and units.
type emfLine struct {
	Timestamp  int64
	Namespace  string
	Dimensions [][]string
	Units      map[string]string
	Values     map[string][]float64 // a single number becomes a one-element slice
}

// parseEMF checks every line of out against the EMF specification (the
// JSON schema in testdata plus the value rules) and returns them parsed.
func parseEMF(t testing.TB, out string) []emfLine {
	t.Helper()
	schemaOnce.Do(func() {
		c := jsonschema.NewCompiler()
		f, err := os.Open("testdata/emf.schema.json")
		if err != nil {
			schemaErr = err
			return
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			schemaErr = err
			return
		}
		if err := c.AddResource("emf.schema.json", doc); err != nil {
			schemaErr = err
			return
		}
		schema, schemaErr = c.Compile("emf.schema.json")
	})
	if schemaErr != nil {
		t.Fatal(schemaErr)
	}
	var lines []emfLine
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		raw := sc.Bytes()
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("EMF line is not JSON: %v: %s", err, raw)
		}
		if err := schema.Validate(doc); err != nil {
			t.Fatalf("EMF line does not follow the specification: %v\n%s", err, raw)
		}
		var v struct {
			AWS struct {
				Timestamp         int64
				CloudWatchMetrics []struct {
					Namespace  string
					Dimensions [][]string
					Metrics    []struct{ Name, Unit string }
				}
			} `json:"_aws"`
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		var members map[string]json.RawMessage
		if err := json.Unmarshal(raw, &members); err != nil {
			t.Fatal(err)
		}
		if len(v.AWS.CloudWatchMetrics) != 1 {
			t.Fatalf("got %d metric directives, want 1: %s", len(v.AWS.CloudWatchMetrics), raw)
		}
		d := v.AWS.CloudWatchMetrics[0]
		l := emfLine{Timestamp: v.AWS.Timestamp, Namespace: d.Namespace, Dimensions: d.Dimensions,
			Units: map[string]string{}, Values: map[string][]float64{}}
		for _, m := range d.Metrics {
			val, ok := members[m.Name]
			if !ok {
				t.Fatalf("metric %s has no top-level value: %s", m.Name, raw)
			}
			var one float64
			var many []float64
			switch {
			case json.Unmarshal(val, &one) == nil:
				many = []float64{one}
			case json.Unmarshal(val, &many) == nil:
				if len(many) == 0 || len(many) > 100 {
					t.Fatalf("metric %s has %d values, want 1 to 100", m.Name, len(many))
				}
			default:
				t.Fatalf("metric %s value %s is neither a number nor an array of numbers", m.Name, val)
			}
			l.Units[m.Name] = m.Unit
			l.Values[m.Name] = many
		}
		lines = append(lines, l)
	}
	return lines
}
