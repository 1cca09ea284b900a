package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
	"text/template"
	"time"
)

// TestManifestIsRendered: the checked-in krew.yaml is krew.yaml.tmpl rendered with its own version
// and archives, so it cannot have been edited by hand or drifted from the template.
func TestManifestIsRendered(t *testing.T) {
	data, err := os.ReadFile("../../krew.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := string(data)
	version := regexp.MustCompile(`(?m)^  version: (\S+)$`).FindStringSubmatch(m)
	if version == nil {
		t.Fatal("krew.yaml has no spec.version")
	}
	re := regexp.MustCompile(`(?m)^        os: (\S+)\n        arch: (\S+)\n    uri: (\S+)/` + regexp.QuoteMeta(version[1]) + `/(\S+)\n    sha256: ([0-9a-f]{64})\n    bin: (\S+)$`)
	var archives []Archive
	base := ""
	for _, g := range re.FindAllStringSubmatch(m, -1) {
		archives = append(archives, Archive{OS: g[1], Arch: g[2], File: g[4], SHA256: g[5], Bin: g[6]})
		base = g[3]
	}
	if len(archives) != len(Platforms) {
		t.Fatalf("krew.yaml has %d platforms, the release builds %d", len(archives), len(Platforms))
	}
	for i, p := range Platforms {
		a := archives[i]
		if a.OS != p.OS || a.Arch != p.Arch || !strings.HasPrefix(a.File, "kubectl-podnet_"+version[1]+"_"+p.OS+"_"+p.Arch+".") {
			t.Errorf("platform %d: %+v does not match %s/%s", i, a, p.OS, p.Arch)
		}
	}
	tmpl := template.Must(template.ParseFiles("../../krew.yaml.tmpl"))
	var want bytes.Buffer
	if err := tmpl.Execute(&want, map[string]any{"Version": version[1], "BaseURI": base, "Archives": archives}); err != nil {
		t.Fatal(err)
	}
	if want.String() != m {
		t.Errorf("krew.yaml is not krew.yaml.tmpl rendered: run make release-manifest")
	}
}

var fixed = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func TestArchivesAreDeterministic(t *testing.T) {
	files := []entry{{"kubectl-podnet", []byte("binary"), 0o755}, {"LICENSE", []byte("MIT"), 0o644}}
	a1, _ := tarGz(files, fixed)
	a2, _ := tarGz(files, fixed)
	z1, _ := zipArchive(files, fixed)
	z2, _ := zipArchive(files, fixed)
	if !bytes.Equal(a1, a2) || !bytes.Equal(z1, z2) || len(a1) == 0 || len(z1) == 0 {
		t.Errorf("archives differ between two runs")
	}
}
