// Command golden prints fixtures of HashiCorp memberlist's wire format as JSON, produced by
// memberlist's own (unexported) encoders. See inject/zz_golden_fixtures.go and test/go/build.sh.
package main

import (
	"encoding/json"
	"os"

	"github.com/hashicorp/memberlist"
)

func main() {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	out := struct {
		Generator string                    `json:"generator"`
		Fixtures  memberlist.GoldenFixtures `json:"fixtures"`
	}{
		Generator: "test/go/golden: Debian golang-github-hashicorp-memberlist-dev, go-msgpack codec",
		Fixtures:  memberlist.BuildGoldenFixtures(),
	}
	if err := enc.Encode(out); err != nil {
		os.Exit(1)
	}
}
