// Command dist builds the release archives of kubectl-podnet: a static binary per platform of the
// krew manifest, packed with LICENSE, README.md and the kubectl_complete-podnet script in the
// layout krew expects (tar.gz; zip for Windows), sha256 sums, and the manifest rendered from
// krew.yaml.tmpl. Two runs on the same commit give the same bytes: the build is -trimpath with the
// version stamped from git, and every archive entry has a fixed time, owner and order.
//
//	go run ./hack/dist --version v0.1.0 --out dist
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"
	"time"
)

// Platforms are those of the krew manifest.
var Platforms = []struct{ OS, Arch string }{
	{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "amd64"}, {"darwin", "arm64"}, {"windows", "amd64"}, {"windows", "arm64"},
}

const module = "github.com/podnet/kubectl-podnet"

func main() {
	version := flag.String("version", "", "release version, e.g. v0.1.0")
	commit := flag.String("commit", "", "commit to stamp (default: git rev-parse --short HEAD)")
	date := flag.String("date", "", "build date to stamp and to give archive entries (default: the commit's date)")
	out := flag.String("out", "dist", "output directory")
	only := flag.String("platform", "", "build only this os/arch (e.g. linux/amd64)")
	tmpl := flag.String("template", "krew.yaml.tmpl", "krew manifest template")
	baseURI := flag.String("base-uri", "https://github.com/podnet/kubectl-podnet/releases/download", "where the archives are downloaded from")
	flag.Parse()
	if err := run(*version, *commit, *date, *out, *only, *tmpl, *baseURI); err != nil {
		fmt.Fprintf(os.Stderr, "dist: error: %v\n", err)
		os.Exit(1)
	}
}

func git(args ...string) string {
	out, err := exec.Command("git", args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// Archive is one platform's archive, for the manifest template.
type Archive struct {
	OS, Arch, File, SHA256, Bin string
}

func run(version, commit, date, out, only, tmplPath, baseURI string) error {
	if version == "" {
		return fmt.Errorf("--version is required (e.g. v0.1.0)")
	}
	if commit == "" {
		commit = git("rev-parse", "--short", "HEAD")
	}
	if date == "" {
		date = git("log", "-1", "--format=%cd", "--date=format:%Y-%m-%dT%H:%M:%SZ")
	}
	mtime, err := time.Parse(time.RFC3339, date)
	if err != nil {
		return fmt.Errorf("--date %q: %w", date, err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	extras := map[string][]byte{}
	for _, f := range []string{"LICENSE", "README.md", "hack/kubectl_complete-podnet"} {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		extras[filepath.Base(f)] = b
	}
	var archives []Archive
	var sums strings.Builder
	for _, p := range Platforms {
		if only != "" && only != p.OS+"/"+p.Arch {
			continue
		}
		bin := "kubectl-podnet"
		if p.OS == "windows" {
			bin += ".exe"
		}
		binPath := filepath.Join(out, "build", p.OS+"_"+p.Arch, bin)
		ld := fmt.Sprintf("-s -w -X %[1]s/internal/version.Version=%s -X %[1]s/internal/version.Commit=%s -X %[1]s/internal/version.Date=%s", module, version, commit, date)
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ld, "-o", binPath, "./cmd/kubectl-podnet")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Arch, "GOFLAGS=-buildvcs=false")
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building %s/%s: %w", p.OS, p.Arch, err)
		}
		binData, err := os.ReadFile(binPath)
		if err != nil {
			return err
		}
		files := []entry{{bin, binData, 0o755}, {"LICENSE", extras["LICENSE"], 0o644}, {"README.md", extras["README.md"], 0o644}}
		if p.OS != "windows" {
			files = append(files, entry{"kubectl_complete-podnet", extras["kubectl_complete-podnet"], 0o755})
		}
		name := fmt.Sprintf("kubectl-podnet_%s_%s_%s", version, p.OS, p.Arch)
		var data []byte
		if p.OS == "windows" {
			name += ".zip"
			data, err = zipArchive(files, mtime)
		} else {
			name += ".tar.gz"
			data, err = tarGz(files, mtime)
		}
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		archives = append(archives, Archive{OS: p.OS, Arch: p.Arch, File: name, SHA256: hex.EncodeToString(sum[:]), Bin: bin})
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), name)
	}
	if err := os.WriteFile(filepath.Join(out, "checksums.txt"), []byte(sums.String()), 0o644); err != nil {
		return err
	}
	t, err := template.ParseFiles(tmplPath)
	if err != nil {
		return err
	}
	var m bytes.Buffer
	if err := t.Execute(&m, map[string]any{"Version": version, "BaseURI": baseURI, "Archives": archives}); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "podnet.yaml"), m.Bytes(), 0o644)
}

type entry struct {
	name string
	data []byte
	mode int64
}

func tarGz(files []entry, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX, Uname: "", Gname: ""}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func zipArchive(files []entry, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: mtime.UTC()}
		h.SetMode(os.FileMode(f.mode))
		w, err := zw.CreateHeader(h)
		if err != nil {
			return nil, err
		}
		if _, err := io.Copy(w, bytes.NewReader(f.data)); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
