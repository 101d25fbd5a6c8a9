module github.com/kwconform/kwconform/guest-go

go 1.25

require (
	github.com/kubewarden/policy-sdk-go v0.13.1
	github.com/opencontainers/image-spec v1.1.1
	github.com/wapc/wapc-guest-tinygo v0.3.3
)

require github.com/opencontainers/go-digest v1.0.0 // indirect
