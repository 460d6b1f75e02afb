package core

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// Slugify lower-cases name and keeps ASCII letters and digits, joining runs
// of anything else with single dashes, at most max bytes; "workspace" when
// nothing is left.
func Slugify(name string, max int) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= max {
			break
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		s = "workspace"
	}
	return s
}

// UniqueSlug is Slugify(name, 40) with a random 6-hex-digit suffix, for
// slugs nobody chose (personal workspaces, taken derived slugs).
func UniqueSlug(name string) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return Slugify(name, 40) + "-" + hex.EncodeToString(b)
}
