package main

// The operations of the guest protocol (docs/guest-protocol.md), shared by both
// transports: each calls the SDK's public function and projects what it returned.

import (
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

// Set by kwconform's builder (-ldflags -X) when the SDK is a local checkout.
var (
	sdkContentHash string
	sdkGitDescribe string
)

// describe reports the protocol version and the SDK linked into this module, read
// from the module's own build information: the module version (for a checkout, the
// version its replace directive replaces) and where it came from.
func describe() map[string]any {
	version := "unknown"
	source := map[string]any{"kind": "release"}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path != sdkModule {
				continue
			}
			version = dep.Version
			if dep.Replace != nil {
				path := dep.Replace.Path
				if dep.Replace.Version != "" && dep.Replace.Version != "(devel)" {
					path += "@" + dep.Replace.Version
				}
				source = map[string]any{"kind": "checkout", "path": path}
				if sdkContentHash != "" {
					source["content_hash"] = sdkContentHash
				}
				if sdkGitDescribe != "" {
					source["git_describe"] = sdkGitDescribe
				}
			}
		}
	}
	return map[string]any{
		"protocol":    protocolVersion,
		"sdk":         sdkModule,
		"sdk_version": version,
		"sdk_source":  source,
		"ops":         []string{"oci_manifest", "manifest_digest", "oci_manifest_config"},
	}
}
