package stack_test

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/triggershq/triggers/cdk/stack"
)

// integration copies the two rules of internal/testenv (this module cannot
// import the parent module's internal packages): integration suites run
// only when TRIGGERS_INTEGRATION=1 or CI=true, and under CI=true a missing
// tool fails instead of skipping.
func integration(t *testing.T) {
	t.Helper()
	if os.Getenv("TRIGGERS_INTEGRATION") == "" && !inCI() {
		t.Skip("integration suite: set TRIGGERS_INTEGRATION=1 (make test does) to run it")
	}
}

func inCI() bool {
	v, _ := strconv.ParseBool(os.Getenv("CI"))
	return v
}

func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if inCI() {
		t.Fatalf("CI=true and a required tool is unavailable: "+format, args...)
	}
	t.Skipf("tool unavailable (fatal under CI=true): "+format, args...)
}

// cfn-lint must find nothing: no error, no warning, no informational
// finding at the default level. The one accepted warning (W3005 on the
// functions, CDK's redundant DependsOn on the role) is ignored on those
// resources only, in their template metadata; see docs/deploy.md.
func TestCfnLint(t *testing.T) {
	integration(t)
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		unavailable(t, "cfn-lint not on PATH: %v", err)
	}
	if out, err := exec.Command(bin, "--version").CombinedOutput(); err == nil {
		t.Logf("%s", strings.TrimSpace(string(out)))
	}

	// The default stack, and one with every optional resource turned on.
	everything := testConfig()
	everything.RetainData = false
	everything.CORSOrigins = []string{"https://app.example.com"}
	everything.AlarmEmail = "oncall@example.com"
	everything.AuthorizerCacheTTL = 0
	variants := map[string]*synthesized{
		"default":        defaultStack(t),
		"all options on": synth(t, stack.Props{Config: everything, Routes: extendedTable()}),
	}
	for name, s := range variants {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(bin, "--format", "parseable", "--", s.file)
			out, err := cmd.CombinedOutput()
			if err != nil || len(strings.TrimSpace(string(out))) > 0 {
				t.Errorf("cfn-lint %s: %v\n%s", s.file, err, out)
			}
		})
	}
}
