package sim

import (
	"bufio"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden transcripts in testdata/scenarios")

// TestScenarios runs each script in testdata/scenarios: a "run" line with a
// replay spec and "expect" lines for the final state, and compares the run's
// transcript with the script's .golden file.
func TestScenarios(t *testing.T) {
	images := testImages(t)
	happy := Run(Scenario{Seed: 1}, images)
	scripts, err := filepath.Glob("testdata/scenarios/*.txt")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scenario scripts: %v", err)
	}
	for _, path := range scripts {
		name := strings.TrimSuffix(filepath.Base(path), ".txt")
		t.Run(name, func(t *testing.T) {
			sc, expects := readScript(t, path)
			res := Run(sc, images)
			for _, v := range res.Violations {
				t.Errorf("violation %s", v)
			}
			for _, e := range expects {
				e.check(t, res, res.HostBytes-happy.HostBytes)
			}
			golden := strings.TrimSuffix(path, ".txt") + ".golden"
			got := strings.Join(res.Log, "\n") + "\n"
			if *updateGolden {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("transcript differs from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

type expect struct {
	what string // "primary", "secondary", "outcome", "resent"
	args []string
}

func readScript(t *testing.T, path string) (Scenario, []expect) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		sc      Scenario
		expects []expect
	)
	scan := bufio.NewScanner(f)
	for scan.Scan() {
		line := strings.TrimSpace(scan.Text())
		fields := strings.Fields(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case fields[0] == "run" && len(fields) == 2:
			if sc, err = ParseScenario(fields[1]); err != nil {
				t.Fatal(err)
			}
		case fields[0] == "expect" && len(fields) >= 3:
			expects = append(expects, expect{what: fields[1], args: fields[2:]})
		default:
			t.Fatalf("%s: cannot read %q", path, line)
		}
	}
	return sc, expects
}

func (e expect) check(t *testing.T, res Result, resent int) {
	t.Helper()
	switch e.what {
	case "primary", "secondary":
		end := res.Final[0]
		if e.what == "secondary" {
			end = res.Final[1]
		}
		want := DeviceEnd{Version: e.args[0], Confirmed: len(e.args) > 1 && e.args[1] == "confirmed"}
		if end != want {
			t.Errorf("%s runs %+v, want %+v", e.what, end, want)
		}
	case "outcome":
		if got, want := res.Outcome, strings.Join(e.args, " "); got != want {
			t.Errorf("outcome %q, want %q", got, want)
		}
	case "resent":
		lo, hi := e.args[0], e.args[0]
		if a, b, ok := strings.Cut(e.args[0], ".."); ok {
			lo, hi = a, b
		}
		min, _ := strconv.Atoi(lo)
		max, _ := strconv.Atoi(hi)
		if resent < min || resent > max {
			t.Errorf("bytes sent again %d, want %d..%d", resent, min, max)
		}
	default:
		t.Errorf("unknown expectation %q", e.what)
	}
}
