package cmd

import (
	"net"
	"strings"
	"testing"
)

// TestExporterBadInput: every bad flag is refused before anything is read or served, saying what
// to give instead.
func TestExporterBadInput(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--listen", "9847"}, `--listen "9847" is not host:port: give one like :9847 or 127.0.0.1:9847`},
		{[]string{"--listen", ":http-alt"}, `--listen ":http-alt": the port must be a number from 0 to 65535`},
		{[]string{"--evidence-interval", "100ms"}, "--evidence-interval 100ms is too short: give 1s or more (30s by default)"},
		{[]string{"--debounce", "-1s"}, "--debounce -1s: give a duration from 0 to 10m (2s by default)"},
		{[]string{"--node-subnet", "10.224.0.0"}, `--node-subnet "10.224.0.0" is not a CIDR: give one like 10.224.0.0/16`},
		{[]string{"--listen", busy.Addr().String()}, "cannot serve on --listen " + busy.Addr().String() + ": "},
		{[]string{"extra"}, `unknown command "extra"`},
		{[]string{"--request-timeout", "30s"}, "--request-timeout 30s would cut the exporter's watches"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := runCmd(t, nil, append([]string{"exporter"}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}
