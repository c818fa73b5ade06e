package functions_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/triggershq/triggers/internal/testenv"
)

// perfRow is one function's line of the report.
type perfRow struct {
	name           string
	zipBytes       int64
	zipSource      string // "make build-functions" or "computed"
	binBytes       int64
	initDuration   time.Duration // REPORT "Init Duration" of the first invoke (see docs/lambda.md: not the init)
	initPhase      time.Duration // median of the emulator's INIT REPORT durationMs over the cold starts
	initMax        time.Duration // the slowest of them
	firstInvoke    time.Duration // median REPORT "Duration" of the first invoke after a cold start
	coldStarts     int
	warmMedian     time.Duration // median REPORT "Duration" of the warm invokes
	warmP90        time.Duration
	wallMedian     time.Duration // median round trip seen by the caller
	invokes        int
	representsWhat string
}

// TestPerformanceReport measures, for each function, its zipped size, the
// Init Duration the emulator reports on the first invoke, and the median
// warm invoke, and prints a Markdown report (also written to the file named
// by TRIGGERS_LAMBDA_REPORT, if set). It asserts nothing about the numbers:
// machines are shared and noisy. TRIGGERS_LAMBDA_INVOKES sets the number of
// warm invokes per function (default 50) and TRIGGERS_LAMBDA_COLD_STARTS the
// number of cold starts (default 5).
func TestPerformanceReport(t *testing.T) {
	testenv.Integration(t)
	n := 50
	if v, err := strconv.Atoi(os.Getenv("TRIGGERS_LAMBDA_INVOKES")); err == nil && v > 0 {
		n = v
	}
	cold := 5
	if v, err := strconv.Atoi(os.Getenv("TRIGGERS_LAMBDA_COLD_STARTS")); err == nil && v > 0 {
		cold = v
	}
	w := newWorld(t)
	var rows []perfRow
	// measure starts the function cold `cold` times (a fresh emulator and
	// process each time) and then invokes the last one n more times. ev gets
	// a running index, so every invoke can send a distinct event.
	measure := func(name, what string, ev func(i int) any, check func(i int, inv invocation)) {
		row := perfRow{name: name, representsWhat: what, invokes: n, coldStarts: cold}
		idx := 0
		var inits, firsts []time.Duration
		var e *emulator
		for c := 0; c < cold; c++ {
			if e != nil {
				e.Stop()
			}
			e = startEmulator(t, name, w.currentEnv())
			first := e.invoke(t, ev(idx))
			check(idx, first)
			idx++
			inits = append(inits, first.report.initPhase)
			firsts = append(firsts, first.report.duration)
			row.initDuration = first.report.initDuration
		}
		row.initPhase, row.initMax, row.firstInvoke = percentile(inits, 50), percentile(inits, 100), percentile(firsts, 50)
		var durs, walls []time.Duration
		for i := 0; i < n; i++ {
			inv := e.invoke(t, ev(idx))
			check(idx, inv)
			idx++
			durs = append(durs, inv.report.duration)
			walls = append(walls, inv.wall)
		}
		row.warmMedian, row.warmP90, row.wallMedian = percentile(durs, 50), percentile(durs, 90), percentile(walls, 50)
		row.zipBytes, row.zipSource, row.binBytes = zipSize(t, name)
		rows = append(rows, row)
	}
	httpOK := func(name string, status int) func(int, invocation) {
		return func(i int, inv invocation) {
			var r events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(inv.payload, &r); err != nil || r.StatusCode != status {
				t.Fatalf("%s invoke %d: got %s, want status %d", name, i, inv.payload, status)
			}
		}
	}

	measure("meta", "GET /health (one GetItem)", func(int) any {
		return loadFixture[events.APIGatewayV2HTTPRequest](t, "health.json")
	}, httpOK("meta", 200))

	var tok string
	measure("token", "POST /token (argon2id verify + limiter GetItem)", func(int) any {
		return tokenEvent(t, w.keyA, "203.0.113.9")
	}, func(i int, inv invocation) {
		httpOK("token", 200)(i, inv)
		var r events.APIGatewayV2HTTPResponse
		_ = json.Unmarshal(inv.payload, &r)
		var body struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.Unmarshal([]byte(r.Body), &body)
		tok = body.AccessToken
	})

	var v verdict
	measure("authorizer", "allow a valid token (HS256 verify, cached key set)", func(int) any {
		return authorizerEvent(t, "Bearer "+tok)
	}, func(i int, inv invocation) {
		if err := json.Unmarshal(inv.payload, &v); err != nil || !v.IsAuthorized {
			t.Fatalf("authorizer invoke %d: got %s, want an allow", i, inv.payload)
		}
	})

	var ids []string
	measure("ingest", "POST /events (one conditional PutItem)", func(i int) any {
		ev := protectedEvent(t, "ingest.json", tok, v, "")
		ev.Body = fmt.Sprintf(`{"type":"user.created","source":"perf","payload":{"n":%d}}`, i)
		ev.Headers["content-length"] = strconv.Itoa(len(ev.Body))
		return ev
	}, func(i int, inv invocation) {
		httpOK("ingest", 201)(i, inv)
		var r events.APIGatewayV2HTTPResponse
		_ = json.Unmarshal(inv.payload, &r)
		var body struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal([]byte(r.Body), &body)
		ids = append(ids, body.ID)
	})

	measure("inbox", fmt.Sprintf("GET /inbox?limit=100 over %d pending (8 shard queries)", cold+n), func(int) any {
		return protectedEvent(t, "inbox.json", tok, v, "")
	}, httpOK("inbox", 200))

	measure("ack", "POST /inbox/{id}/ack (one conditional UpdateItem)", func(i int) any {
		return protectedEvent(t, "ack.json", tok, v, ids[i])
	}, httpOK("ack", 200))

	measure("subscriptions", "GET /subscriptions (one Query)", func(int) any {
		ev := protectedEvent(t, "inbox.json", tok, v, "")
		ev.RouteKey, ev.RawPath, ev.RawQueryString = "GET /subscriptions", "/subscriptions", ""
		ev.RequestContext.RouteKey, ev.RequestContext.HTTP.Path = ev.RouteKey, ev.RawPath
		return ev
	}, httpOK("subscriptions", 200))

	// The stream and deliver functions need the retry queue.
	queueURL := w.retryQueue(t)
	streamEnv := w.env()
	streamEnv["TRIGGERS_RETRY_QUEUE_URL"] = queueURL
	measureEnv := func(name, what, fixture string, env map[string]string) {
		saved := w.envOverride
		w.envOverride = env
		defer func() { w.envOverride = saved }()
		measure(name, what, func(int) any {
			return loadFixture[json.RawMessage](t, fixture)
		}, func(i int, inv invocation) {
			var r struct {
				BatchItemFailures []any `json:"batchItemFailures"`
			}
			if err := json.Unmarshal(inv.payload, &r); err != nil {
				t.Fatalf("%s invoke %d: got %s, want a batch response", name, i, inv.payload)
			}
		})
	}
	measureEnv("stream", "a DynamoDB Streams batch (INSERT, MODIFY, TTL REMOVE), no subscriptions", "../dynamodbstreams/event.json", streamEnv)
	measureEnv("deliver", "an SQS batch of one retry message for a delivery that no longer exists", "../sqs/event.json", streamEnv)

	report := renderReport(rows)
	t.Log("\n" + report)
	if path := os.Getenv("TRIGGERS_LAMBDA_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(report), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(len(s)-1, i-1))]
}

// zipSize returns the arm64 zip's size: the one `make build-functions` wrote
// if it exists, else one built and zipped here with the same flags.
func zipSize(t testing.TB, name string) (zipBytes int64, source string, binBytes int64) {
	t.Helper()
	root := testenv.RepoRoot(t)
	zipPath := filepath.Join(root, "dist", "functions", name+".zip")
	binPath := filepath.Join(root, "dist", "functions", name, "bootstrap")
	zi, zerr := os.Stat(zipPath)
	bi, berr := os.Stat(binPath)
	if zerr == nil && berr == nil {
		return zi.Size(), "make build-functions", bi.Size()
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", bin, "./functions/"+name)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s for linux/arm64: %v\n%s", name, err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	hdr.SetMode(0o755)
	f, err := zw.CreateHeader(hdr)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return int64(buf.Len()), "computed", int64(len(data))
}

func renderReport(rows []perfRow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Lambda functions under aws-lambda-rie (pinned v0.0.0-20261030222936-bef5c4ba774d), against moto_server on loopback.\n")
	fmt.Fprintf(&b, "Machine: %s, %d CPUs, %s/%s, %s; measured %s.\n\n", cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), time.Now().UTC().Format("2006-01-02 15:04 MST"))
	b.WriteString("| function | zip (linux/arm64) | bootstrap | init (INIT REPORT), median | init, slowest | REPORT Init Duration | first invoke, median | warm median | warm p90 | warm round trip, median | what one invoke does |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rows {
		zipNote := ""
		if r.zipSource != "make build-functions" {
			zipNote = " (" + r.zipSource + ")"
		}
		fmt.Fprintf(&b, "| %s | %s%s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.name, mib(r.zipBytes), zipNote, mib(r.binBytes), msf(r.initPhase), msf(r.initMax), msf(r.initDuration), msf(r.firstInvoke),
			msf(r.warmMedian), msf(r.warmP90), msf(r.wallMedian), r.representsWhat)
	}
	fmt.Fprintf(&b, "\nInit figures are over %d cold starts per function (a fresh emulator and process each); warm figures over %d invokes of the last one.\n", rows[0].coldStarts, rows[0].invokes)
	return b.String()
}

func mib(n int64) string         { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }
func msf(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
