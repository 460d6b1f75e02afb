package aiplugin

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// binary is a plugin found in the plugin directory.
type binary struct {
	// name is the file's name in the directory, e.g. "openai": it picks the
	// environment variables the plugin gets.
	name string
	// path is the resolved path of the executable that is launched.
	path string
	// sum is the SHA-256 of the file at discovery; every launch checks it.
	sum []byte
}

// discover lists the plugins of dir: regular executable files, and
// symlinks to such files inside dir. It skips, with a log line saying why,
// directories, symlinks pointing outside dir (or nowhere), other file
// types, non-executables and world-writable files. A missing dir has no
// plugins. With only set, other names are passed over before they are
// read, so unused plugins cost no hashing at start.
func discover(dir string, only []string, log *slog.Logger) ([]binary, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("plugin directory %s: %w", dir, err)
	}
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	} else if errors.Is(err, fs.ErrNotExist) {
		log.Warn("no plugin directory; no AI provider plugins", "dir", dir)
		return nil, nil
	} else {
		return nil, fmt.Errorf("plugin directory %s: %w", dir, err)
	}
	if st, err := os.Stat(root); err != nil {
		return nil, fmt.Errorf("plugin directory %s: %w", dir, err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("plugin directory %s is not a directory", dir)
	} else if st.Mode().Perm()&0o002 != 0 {
		log.Warn("the plugin directory is world-writable: anyone can add plugins to it", "dir", root)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("read plugin directory %s: %w", dir, err)
	}
	var found []binary
	for _, e := range entries {
		path := filepath.Join(root, e.Name())
		if len(only) > 0 && !slices.Contains(only, e.Name()) {
			log.Debug("plugin not in use; not launched", "plugin", e.Name())
			continue
		}
		b, reason := inspect(root, e.Name())
		if reason != "" {
			log.Info("skipping file in the plugin directory", "file", path, "reason", reason)
			continue
		}
		found = append(found, b)
	}
	sort.Slice(found, func(i, j int) bool { return found[i].name < found[j].name })
	return found, nil
}

// inspect says whether root/name is a plugin, and why not when it is not.
func inspect(root, name string) (binary, string) {
	path := filepath.Join(root, name)
	if strings.HasPrefix(name, ".") {
		return binary{}, "hidden file"
	}
	lst, err := os.Lstat(path)
	if err != nil {
		return binary{}, "cannot stat: " + err.Error()
	}
	target := path
	if lst.Mode()&fs.ModeSymlink != 0 {
		resolved, err := filepath.EvalSymlinks(path)
		if err != nil {
			return binary{}, "symlink to nothing"
		}
		rel, err := filepath.Rel(root, resolved)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
			return binary{}, "symlink pointing outside the plugin directory"
		}
		target = resolved
	}
	st, err := os.Stat(target)
	switch {
	case err != nil:
		return binary{}, "cannot stat: " + err.Error()
	case st.IsDir():
		return binary{}, "directory"
	case !st.Mode().IsRegular():
		return binary{}, "not a regular file"
	case st.Mode().Perm()&0o111 == 0:
		return binary{}, "not executable"
	case st.Mode().Perm()&0o002 != 0:
		return binary{}, "world-writable"
	}
	sum, err := fileSHA256(target)
	if err != nil {
		return binary{}, "cannot read: " + err.Error()
	}
	return binary{name: name, path: target, sum: sum}, ""
}

// fileSHA256 hashes the file at path.
func fileSHA256(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
