//go:build tinygo

package main

// The waPC transport, for TinyGo builds (`tinygo build -target=wasi`): under TinyGo the
// SDK's capabilities.NewHost speaks waPC, so the guest registers one waPC function per
// operation (docs/guest-protocol.md). The waPC guest library only compiles under TinyGo,
// so on machines without TinyGo this file is neither built nor type-checked: it is
// unverified until `kwconform build-guests` runs where `tinygo` is on PATH.

import (
	"encoding/json"

	"github.com/kubewarden/policy-sdk-go/pkg/capabilities"
	wapc "github.com/wapc/wapc-guest-tinygo"
)

func main() {
	functions := wapc.Functions{
		"describe": func([]byte) ([]byte, error) { return json.Marshal(describe()) },
	}
	for op := range handlers {
		functions[op] = func(payload []byte) ([]byte, error) {
			host := capabilities.NewHost()
			res, err := serve(&host, op, payload)
			if err != nil {
				return nil, err
			}
			return json.Marshal(res)
		}
	}
	wapc.RegisterFunctions(functions)
}
