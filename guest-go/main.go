// Command guest-go is the kwconform guest for the Kubewarden Go SDK.
//
// It is a WASI command in the Kubewarden WASI-CLI style (docs/guest-protocol.md):
// argv[1] names the operation, stdin carries one request per line, stdout gets one
// result per line. Each request goes through the SDK's public function with the SDK's
// own host client (capabilities.NewHost), so the SDK's request encoding, host call and
// decoding are what is tested. This file only dispatches; view.go projects the results.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/kubewarden/policy-sdk-go/pkg/capabilities"
	"github.com/kubewarden/policy-sdk-go/pkg/capabilities/oci/manifest"
	"github.com/kubewarden/policy-sdk-go/pkg/capabilities/oci/manifest_config"
	"github.com/kubewarden/policy-sdk-go/pkg/capabilities/oci/manifest_digest"
)

const (
	protocolVersion = 1
	sdkModule       = "github.com/kubewarden/policy-sdk-go"
)

type request struct {
	Image string `json:"image"`
}

// result is one line of output: the decoded view, or the SDK's error.
type result struct {
	Outcome string  `json:"outcome"`
	Kind    any     `json:"kind,omitempty"`
	View    any     `json:"view,omitempty"`
	Error   *string `json:"error,omitempty"`
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: guest-go OPERATION (describe | oci_manifest | manifest_digest | oci_manifest_config)")
	}
	op := os.Args[1]
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()

	if op == "describe" {
		writeLine(out, describe())
		return
	}
	handler, ok := handlers[op]
	if !ok {
		fail("unknown operation: " + op)
	}

	// The whole batch is read before the first host call: the host replaces stdin
	// with each host-call response and drops whatever was left unread.
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("cannot read requests: " + err.Error())
	}
	host := capabilities.NewHost()
	for _, line := range bytes.Split(input, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var req request
		if err := json.Unmarshal(line, &req); err != nil {
			fail("malformed request line: " + err.Error())
		}
		writeLine(out, handler(&host, req.Image))
		// Flushed per request: the host attributes host calls to the request whose
		// result line has not been written yet.
		out.Flush()
	}
}

var handlers = map[string]func(*capabilities.Host, string) result{
	"oci_manifest": func(h *capabilities.Host, image string) result {
		res, err := manifest.GetOCIManifest(h, image)
		if err != nil {
			return sdkError(err)
		}
		switch {
		case res.Image != nil:
			return result{Outcome: "ok", Kind: "image", View: manifestView(res.Image)}
		case res.Index != nil:
			return result{Outcome: "ok", Kind: "index", View: indexView(res.Index)}
		default:
			// The SDK returned neither an image nor an index and no error.
			return result{Outcome: "ok", Kind: nil, View: map[string]any{}}
		}
	},
	"manifest_digest": func(h *capabilities.Host, image string) result {
		digest, err := manifest_digest.GetOCIManifestDigest(h, image)
		if err != nil {
			return sdkError(err)
		}
		return result{Outcome: "ok", View: map[string]any{"digest": digest}}
	},
	"oci_manifest_config": func(h *capabilities.Host, image string) result {
		res, err := manifest_config.GetOCIManifestAndConfig(h, image)
		if err != nil {
			return sdkError(err)
		}
		return result{Outcome: "ok", View: manifestAndConfigView(res)}
	},
}

func sdkError(err error) result {
	message := err.Error()
	return result{Outcome: "error", Error: &message}
}

// describe reports the protocol version and the SDK release linked into this module,
// read from the module's own build information.
func describe() map[string]any {
	version := "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == sdkModule {
				version = dep.Version
				if dep.Replace != nil {
					version = dep.Replace.Version + " (replaced by " + dep.Replace.Path + ")"
				}
			}
		}
	}
	return map[string]any{
		"protocol":    protocolVersion,
		"sdk":         sdkModule,
		"sdk_version": version,
		"ops":         []string{"oci_manifest", "manifest_digest", "oci_manifest_config"},
	}
}

func writeLine(out *bufio.Writer, v any) {
	line, err := json.Marshal(v)
	if err != nil {
		fail("cannot encode result: " + err.Error())
	}
	out.Write(line)
	out.WriteByte('\n')
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(3)
}
