package porttest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// TestDocumentStore is the contract of ports.DocumentStore, used from
// correctly scoped transactions (TestTenantIsolation covers the others).
// newUoW may return units of work over one shared database: every subtest
// works in workspaces of its own, and the subtests run in parallel.
//
// Queries use whole words only: adapters may match words (full-text search)
// or substrings, and agree on words.
func TestDocumentStore(t *testing.T, newUoW func(t *testing.T) ports.UnitOfWork) {
	t.Helper()
	t0 := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

	t.Run("create and get round trip", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user, w := storeNewTenant(t, uow)
		ctx := storeScope(user.ID, w.ID)
		d := &core.Document{
			WorkspaceID: w.ID, CreatedBy: user.ID,
			Title: "Quarterly Report — Ünïcödé", Description: "Numbers for the third quarter",
			OriginalFilename: "report.docx",
			ContentType:      "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
			SizeBytes:        5 << 30, // past 32 bits
			WordCount:        1234, SHA256: strings.Repeat("ab", 32),
			Text: "First line.\nSecond line, with émoji 🎉 and\ttabs.",
			Metadata: map[string]any{
				"author": "Ada", "pages": 3, "draft": true, "tags": []string{"a", "b"},
				"nested": map[string]any{"k": "v"}, "none": nil,
			},
		}
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Documents().Create(ctx, d)
		})
		require.NotEqual(t, uuid.Nil, d.ID, "an id is given")
		require.Equal(t, 1, d.Version, "version 1 is given")
		require.False(t, d.CreatedAt.IsZero(), "the transaction's time is given")
		require.WithinDuration(t, d.CreatedAt, d.UpdatedAt, 0)
		// The caller's map is not the store's.
		d.Metadata["author"] = "changed after create"

		got := storeGetDocument(t, ctx, uow, d.ID)
		want := *d
		want.Metadata = map[string]any{
			"author": "Ada", "pages": float64(3), "draft": true, "tags": []any{"a", "b"},
			"nested": map[string]any{"k": "v"}, "none": nil,
		}
		requireSameDocument(t, want, got, true)
		require.Equal(t, want.Metadata, got.Metadata, "metadata reads back as JSON")

		// The store hands out copies.
		got.Metadata["author"] = "mutated"
		got.Metadata["nested"].(map[string]any)["k"] = "mutated"
		again := storeGetDocument(t, ctx, uow, d.ID)
		require.Equal(t, "Ada", again.Metadata["author"])
		require.Equal(t, map[string]any{"k": "v"}, again.Metadata["nested"])

		// Given id and times (kept to the microsecond), absent optional
		// fields and nil metadata.
		at := time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC)
		e := &core.Document{
			ID: uuid.New(), WorkspaceID: w.ID, CreatedBy: user.ID, Title: "Plain", ContentType: "text/plain",
			Text: "x", CreatedAt: at, UpdatedAt: at.Add(time.Second),
		}
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Documents().Create(ctx, e)
		})
		require.WithinDuration(t, at.Truncate(time.Microsecond), e.CreatedAt, 0)
		got = storeGetDocument(t, ctx, uow, e.ID)
		require.WithinDuration(t, at.Truncate(time.Microsecond), got.CreatedAt, 0)
		require.WithinDuration(t, at.Add(time.Second).Truncate(time.Microsecond), got.UpdatedAt, 0)
		require.Empty(t, got.Description)
		require.Empty(t, got.OriginalFilename)
		require.Empty(t, got.SHA256)
		require.Zero(t, got.SizeBytes)
		require.Zero(t, got.WordCount)
		require.Equal(t, 1, got.Version)
		require.Equal(t, map[string]any{}, got.Metadata, "nil metadata is an empty object")

		_, other := storeNewTenant(t, uow)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			_, err := tx.Documents().Get(ctx, uuid.New())
			require.ErrorIs(t, err, core.ErrNotFound, "unknown id")
			_, err = tx.Documents().GetDeleted(ctx, d.ID)
			require.ErrorIs(t, err, core.ErrNotFound, "GetDeleted of a live document")
			return nil
		})
		for name, c := range map[string]struct {
			doc  core.Document
			want error
		}{
			"the id is taken":                  {core.Document{ID: d.ID, WorkspaceID: w.ID, CreatedBy: user.ID}, core.ErrConflict},
			"unknown creator":                  {core.Document{WorkspaceID: w.ID, CreatedBy: uuid.New()}, core.ErrNotFound},
			"another workspace than the scope": {core.Document{WorkspaceID: other.ID, CreatedBy: user.ID}, core.ErrNotFound},
			"no workspace":                     {core.Document{CreatedBy: user.ID}, core.ErrNotFound},
		} {
			doc := c.doc
			doc.Title, doc.ContentType, doc.Text = "Rejected", "text/plain", "x"
			require.ErrorIs(t, uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
				return tx.Documents().Create(ctx, &doc)
			}), c.want, name)
		}

		// A soft-deleted workspace takes no documents.
		storeDo(t, storeScope(user.ID, other.ID), uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().SoftDelete(ctx, t0)
		})
		require.ErrorIs(t, uow.Do(storeScope(user.ID, other.ID), func(ctx context.Context, tx ports.Tx) error {
			return tx.Documents().Create(ctx, storeDocument(other.ID, user.ID, "Late", "x"))
		}), core.ErrNotFound)

		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			list, err := tx.Documents().List(ctx, ports.DocumentFilter{})
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{e.ID, d.ID}, documentIDs(list), "nothing rejected was stored")
			return nil
		})
	})

	t.Run("list newest first without text, keyset pages", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user, w := storeNewTenant(t, uow)
		otherUser, other := storeNewTenant(t, uow)
		ctx := storeScope(user.ID, w.ID)
		const n = 25
		docs := make([]*core.Document, n)
		for i := range docs {
			// Groups of three share their time, so order among them is by
			// id, and pages of ten split groups.
			docs[i] = storeDocument(w.ID, user.ID, fmt.Sprintf("Document %02d", i), fmt.Sprintf("Body of document %02d.", i))
			docs[i].CreatedAt = t0.Add(time.Duration(i/3) * time.Minute)
			docs[i].Metadata = map[string]any{"i": i}
		}
		deleted := storeDocument(w.ID, user.ID, "Deleted", "Gone.")
		deleted.CreatedAt = t0.Add(time.Hour)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			for _, d := range docs {
				require.NoError(t, tx.Documents().Create(ctx, d))
			}
			require.NoError(t, tx.Documents().Create(ctx, deleted))
			return tx.Documents().SoftDelete(ctx, deleted.ID, t0.Add(2*time.Hour))
		})
		elsewhere := storeDocument(other.ID, otherUser.ID, "Elsewhere", "Not ours.")
		elsewhere.CreatedAt = t0.Add(time.Minute)
		storeCreateDocument(t, uow, elsewhere)

		want := make([]core.Document, n)
		for i, d := range docs {
			want[i] = *d
			want[i].Metadata = map[string]any{"i": float64(i)}
		}
		sort.Slice(want, func(i, j int) bool {
			if !want[i].CreatedAt.Equal(want[j].CreatedAt) {
				return want[i].CreatedAt.After(want[j].CreatedAt)
			}
			return bytes.Compare(want[i].ID[:], want[j].ID[:]) > 0
		})
		wantIDs := documentIDs(want)

		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			list := func(f ports.DocumentFilter) []core.Document {
				t.Helper()
				got, err := tx.Documents().List(ctx, f)
				require.NoError(t, err)
				return got
			}
			all := list(ports.DocumentFilter{})
			require.Equal(t, wantIDs, documentIDs(all), "no limit: every live document, newest first, equal times by id descending")
			for i, d := range all {
				requireSameDocument(t, want[i], d, false)
				require.Empty(t, d.Text, "lists leave the text out")
				require.Equal(t, want[i].Metadata, d.Metadata)
			}
			require.Equal(t, wantIDs, documentIDs(list(ports.DocumentFilter{Limit: -1})), "a negative limit is no limit")
			require.Equal(t, wantIDs[:7], documentIDs(list(ports.DocumentFilter{Limit: 7})))

			// Keyset paging: no duplicates, no gaps.
			var paged []uuid.UUID
			var sizes []int
			f := ports.DocumentFilter{Limit: 10}
			for range n {
				page := list(f)
				sizes = append(sizes, len(page))
				if len(page) == 0 {
					break
				}
				paged = append(paged, documentIDs(page)...)
				last := page[len(page)-1]
				f.Before = &ports.DocumentPosition{CreatedAt: last.CreatedAt, ID: last.ID}
			}
			require.Equal(t, []int{10, 10, 5, 0}, sizes)
			require.Equal(t, wantIDs, paged)
			return nil
		})
		storeDo(t, storeScope(user.ID, uuid.Nil), uow, func(ctx context.Context, tx ports.Tx) error {
			got, err := tx.Documents().List(ctx, ports.DocumentFilter{})
			require.NoError(t, err)
			require.Empty(t, got, "no current workspace, no documents")
			return nil
		})
	})

	t.Run("query matches every word in title, description or text", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user, w := storeNewTenant(t, uow)
		otherUser, other := storeNewTenant(t, uow)
		ctx := storeScope(user.ID, w.ID)
		plan := storeDocument(w.ID, user.ID, "Kubernetes Migration Plan", "We move the cluster during spring.")
		plan.CreatedAt = t0.Add(time.Minute)
		garden := storeDocument(w.ID, user.ID, "Garden Journal", "Kubernetes jokes aside, the tomatoes grew well.")
		garden.Description = "Tomatoes and basil"
		garden.CreatedAt = t0.Add(2 * time.Minute)
		recipes := storeDocument(w.ID, user.ID, "Recipes", "Basil pesto with pine nuts.")
		recipes.CreatedAt = t0.Add(3 * time.Minute)
		archived := storeDocument(w.ID, user.ID, "Kubernetes archive", "Basil and spring.")
		archived.CreatedAt = t0.Add(4 * time.Minute)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			for _, d := range []*core.Document{plan, garden, recipes, archived} {
				require.NoError(t, tx.Documents().Create(ctx, d))
			}
			return tx.Documents().SoftDelete(ctx, archived.ID, t0.Add(time.Hour))
		})
		storeCreateDocument(t, uow, storeDocument(other.ID, otherUser.ID, "Kubernetes elsewhere", "Basil and spring."))

		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			for _, c := range []struct {
				query string
				want  []*core.Document
			}{
				{"Kubernetes", []*core.Document{garden, plan}},   // a title word, a text word
				{"KUBERNETES", []*core.Document{garden, plan}},   // in any case
				{"migration", []*core.Document{plan}},            // a title word
				{"tomatoes", []*core.Document{garden}},           // description and text
				{"basil", []*core.Document{recipes, garden}},     // a text word, a description word
				{"spring", []*core.Document{plan}},               // before punctuation
				{"kubernetes spring", []*core.Document{plan}},    // title and text
				{"kubernetes basil", []*core.Document{garden}},   // text and description
				{"  basil   pesto ", []*core.Document{recipes}},  // blanks around words
				{"kubernetes pesto", nil},                        // each word somewhere, never both
				{"zeppelin", nil},                                // nowhere
				{"", []*core.Document{recipes, garden, plan}},    // no query
				{"   ", []*core.Document{recipes, garden, plan}}, // a blank query
			} {
				got, err := tx.Documents().List(ctx, ports.DocumentFilter{Query: c.query})
				require.NoError(t, err, c.query)
				require.Equal(t, docPtrIDs(c.want), documentIDs(got), "query %q", c.query)
				for _, d := range got {
					require.Empty(t, d.Text, "lists leave the text out")
				}
			}
			// With a limit and a cursor.
			got, err := tx.Documents().List(ctx, ports.DocumentFilter{Query: "basil", Limit: 1})
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{recipes.ID}, documentIDs(got))
			got, err = tx.Documents().List(ctx, ports.DocumentFilter{Query: "basil", Limit: 1,
				Before: &ports.DocumentPosition{CreatedAt: got[0].CreatedAt, ID: got[0].ID}})
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{garden.ID}, documentIDs(got))
			return nil
		})
	})

	t.Run("update is conditional on the version", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user, w := storeNewTenant(t, uow)
		ctx := storeScope(user.ID, w.ID)
		d := storeDocument(w.ID, user.ID, "Original title", "Original words about marmalade.")
		d.Description = "Original description"
		d.OriginalFilename = "original.md"
		d.Metadata = map[string]any{"source": "upload"}
		d.CreatedAt = t0
		storeCreateDocument(t, uow, d)

		at := t0.Add(time.Hour)
		changed := *d
		changed.Title, changed.Description, changed.Text = "New title", "", "Fresh words about xylophones."
		changed.ContentType, changed.SizeBytes, changed.WordCount = "text/markdown", 42, 4
		changed.SHA256, changed.Metadata = strings.Repeat("cd", 32), map[string]any{"edited": true}
		// Not Update's to change:
		changed.OriginalFilename, changed.CreatedBy, changed.WorkspaceID = "renamed.md", uuid.New(), uuid.New()
		changed.CreatedAt, changed.Version = t0.Add(time.Minute), 7

		var updated core.Document
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			var err error
			updated, err = tx.Documents().Update(ctx, changed, 1, at)
			return err
		})
		want := *d
		want.Title, want.Description, want.Text = changed.Title, changed.Description, changed.Text
		want.ContentType, want.SizeBytes, want.WordCount = changed.ContentType, changed.SizeBytes, changed.WordCount
		want.SHA256, want.Metadata = changed.SHA256, map[string]any{"edited": true}
		want.Version, want.UpdatedAt = 2, at
		requireSameDocument(t, want, updated, true)
		requireSameDocument(t, want, storeGetDocument(t, ctx, uow, d.ID), true)

		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			// The search follows the text.
			got, err := tx.Documents().List(ctx, ports.DocumentFilter{Query: "xylophones"})
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{d.ID}, documentIDs(got))
			got, err = tx.Documents().List(ctx, ports.DocumentFilter{Query: "marmalade"})
			require.NoError(t, err)
			require.Empty(t, got)

			stale := changed
			stale.Title = "Stale write"
			for _, expected := range []int{1, 3} {
				_, err = tx.Documents().Update(ctx, stale, expected, at.Add(time.Minute))
				require.Error(t, err)
				require.Equal(t, core.EPRECONDITION, core.ErrorCode(err), "expected version %d: %v", expected, err)
				require.NotErrorIs(t, err, core.ErrNotFound)
			}
			_, err = tx.Documents().Update(ctx, core.Document{ID: uuid.New(), Title: "x", ContentType: "text/plain"}, 1, at)
			require.ErrorIs(t, err, core.ErrNotFound, "unknown id")
			return nil
		})
		requireSameDocument(t, want, storeGetDocument(t, ctx, uow, d.ID), true)

		// The next version moves on from 2.
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			again, err := tx.Documents().Update(ctx, updated, 2, at.Add(2*time.Minute))
			require.NoError(t, err)
			require.Equal(t, 3, again.Version)
			require.WithinDuration(t, at.Add(2*time.Minute), again.UpdatedAt, 0)
			return nil
		})
	})

	t.Run("concurrent updates expecting the same version: exactly one wins", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user, w := storeNewTenant(t, uow)
		ctx := storeScope(user.ID, w.ID)
		d := storeDocument(w.ID, user.ID, "Contended", "Everyone edits this.")
		storeCreateDocument(t, uow, d)

		const n = 8
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
					edit := *d
					edit.Title = fmt.Sprintf("writer %d", i)
					_, err := tx.Documents().Update(ctx, edit, 1, t0)
					return err
				})
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, winner, "writers %d and %d both won", winner, i)
				winner = i
				continue
			}
			require.Equal(t, core.EPRECONDITION, core.ErrorCode(err), "writer %d: %v", i, err)
		}
		require.NotEqual(t, -1, winner, "one writer wins")
		got := storeGetDocument(t, ctx, uow, d.ID)
		require.Equal(t, 2, got.Version)
		require.Equal(t, fmt.Sprintf("writer %d", winner), got.Title)
	})

	t.Run("soft delete hides, restore brings back", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user, w := storeNewTenant(t, uow)
		ctx := storeScope(user.ID, w.ID)
		d := storeDocument(w.ID, user.ID, "Doomed", "Words about pelicans.")
		d.SizeBytes, d.CreatedAt = 100, t0.Add(time.Minute)
		keep := storeDocument(w.ID, user.ID, "Kept", "Words about herons.")
		keep.SizeBytes, keep.CreatedAt = 10, t0
		storeCreateDocument(t, uow, d)
		storeCreateDocument(t, uow, keep)

		deletedAt, restoredAt := t0.Add(time.Hour), t0.Add(2*time.Hour)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			docs := tx.Documents()
			require.NoError(t, docs.SoftDelete(ctx, d.ID, deletedAt))

			_, err := docs.Get(ctx, d.ID)
			require.ErrorIs(t, err, core.ErrNotFound)
			list, err := docs.List(ctx, ports.DocumentFilter{})
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{keep.ID}, documentIDs(list))
			list, err = docs.List(ctx, ports.DocumentFilter{Query: "pelicans"})
			require.NoError(t, err)
			require.Empty(t, list)
			count, size, err := docs.Usage(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, count)
			require.Equal(t, int64(10), size)

			got, err := docs.GetDeleted(ctx, d.ID)
			require.NoError(t, err)
			want := *d
			want.UpdatedAt = deletedAt
			requireSameDocument(t, want, got, true)
			require.NotNil(t, got.DeletedAt)
			require.WithinDuration(t, deletedAt, *got.DeletedAt, 0)

			require.ErrorIs(t, docs.SoftDelete(ctx, d.ID, deletedAt), core.ErrNotFound, "already deleted")
			_, err = docs.Update(ctx, *d, 1, deletedAt)
			require.ErrorIs(t, err, core.ErrNotFound, "a deleted document is not updated")
			_, err = docs.GetDeleted(ctx, keep.ID)
			require.ErrorIs(t, err, core.ErrNotFound, "GetDeleted of a live document")
			_, err = docs.Restore(ctx, keep.ID, restoredAt)
			require.ErrorIs(t, err, core.ErrNotFound, "Restore of a live document")
			require.ErrorIs(t, docs.SoftDelete(ctx, uuid.New(), deletedAt), core.ErrNotFound)
			_, err = docs.Restore(ctx, uuid.New(), restoredAt)
			require.ErrorIs(t, err, core.ErrNotFound)
			return nil
		})

		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			docs := tx.Documents()
			restored, err := docs.Restore(ctx, d.ID, restoredAt)
			require.NoError(t, err)
			want := *d
			want.Version, want.UpdatedAt = 2, restoredAt
			requireSameDocument(t, want, restored, true)
			require.Nil(t, restored.DeletedAt)

			_, err = docs.Restore(ctx, d.ID, restoredAt)
			require.ErrorIs(t, err, core.ErrNotFound, "restored already")
			_, err = docs.GetDeleted(ctx, d.ID)
			require.ErrorIs(t, err, core.ErrNotFound)
			got, err := docs.Get(ctx, d.ID)
			require.NoError(t, err)
			requireSameDocument(t, want, got, true)
			list, err := docs.List(ctx, ports.DocumentFilter{Query: "pelicans"})
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{d.ID}, documentIDs(list))
			count, size, err := docs.Usage(ctx)
			require.NoError(t, err)
			require.Equal(t, 2, count)
			require.Equal(t, int64(110), size)

			_, err = docs.Update(ctx, *d, 2, restoredAt)
			require.NoError(t, err, "editable again, at its new version")
			return nil
		})
	})

	t.Run("usage counts live documents and their bytes", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user, w := storeNewTenant(t, uow)
		otherUser, other := storeNewTenant(t, uow)
		ctx := storeScope(user.ID, w.ID)
		usage := func(ctx context.Context) (int, int64) {
			t.Helper()
			var count int
			var size int64
			storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
				var err error
				count, size, err = tx.Documents().Usage(ctx)
				return err
			})
			return count, size
		}
		count, size := usage(ctx)
		require.Zero(t, count)
		require.Zero(t, size)

		for _, n := range []int64{100, 2000, 3 << 30} {
			d := storeDocument(w.ID, user.ID, "Sized", "x")
			d.SizeBytes = n
			storeCreateDocument(t, uow, d)
		}
		elsewhere := storeDocument(other.ID, otherUser.ID, "Elsewhere", "x")
		elsewhere.SizeBytes = 7
		storeCreateDocument(t, uow, elsewhere)

		count, size = usage(ctx)
		require.Equal(t, 3, count)
		require.Equal(t, int64(100+2000+3<<30), size, "sums past 32 bits")
		count, size = usage(storeScope(otherUser.ID, other.ID))
		require.Equal(t, 1, count)
		require.Equal(t, int64(7), size)
		count, size = usage(storeScope(user.ID, uuid.Nil))
		require.Zero(t, count, "no current workspace")
		require.Zero(t, size)
	})

	for _, failure := range []struct {
		name string
		// run runs fn in uow and makes its transaction fail after fn's writes.
		run func(t *testing.T, ctx context.Context, uow ports.UnitOfWork, fn func(ctx context.Context, tx ports.Tx))
	}{
		{"error", func(t *testing.T, ctx context.Context, uow ports.UnitOfWork, fn func(ctx context.Context, tx ports.Tx)) {
			errBoom := errors.New("boom")
			require.ErrorIs(t, uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
				fn(ctx, tx)
				return errBoom
			}), errBoom)
		}},
		{"panic", func(t *testing.T, ctx context.Context, uow ports.UnitOfWork, fn func(ctx context.Context, tx ports.Tx)) {
			require.PanicsWithValue(t, "kaboom", func() {
				_ = uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
					fn(ctx, tx)
					panic("kaboom")
				})
			})
		}},
	} {
		t.Run("a failed transaction leaves no trace: "+failure.name, func(t *testing.T) {
			t.Parallel()
			uow := newUoW(t)
			user, w := storeNewTenant(t, uow)
			ctx := storeScope(user.ID, w.ID)
			existing := storeDocument(w.ID, user.ID, "Existing", "Steady words about lighthouses.")
			existing.SizeBytes = 5
			deleted := storeDocument(w.ID, user.ID, "Deleted", "Quiet words.")
			deleted.SizeBytes = 9
			storeCreateDocument(t, uow, existing)
			storeCreateDocument(t, uow, deleted)
			storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
				return tx.Documents().SoftDelete(ctx, deleted.ID, t0)
			})
			created := storeDocument(w.ID, user.ID, "Created", "Words about comets.")

			failure.run(t, ctx, uow, func(ctx context.Context, tx ports.Tx) {
				docs := tx.Documents()
				require.NoError(t, docs.Create(ctx, created))
				edit := *existing
				edit.Title, edit.Text = "Edited", "Words about volcanoes."
				_, err := docs.Update(ctx, edit, 1, t0)
				require.NoError(t, err)
				require.NoError(t, docs.SoftDelete(ctx, existing.ID, t0))
				_, err = docs.Restore(ctx, deleted.ID, t0)
				require.NoError(t, err)
				_, err = docs.Update(ctx, *deleted, 2, t0)
				require.NoError(t, err)
			})

			storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
				docs := tx.Documents()
				_, err := docs.Get(ctx, created.ID)
				require.ErrorIs(t, err, core.ErrNotFound, "creation rolled back")
				_, err = docs.GetDeleted(ctx, created.ID)
				require.ErrorIs(t, err, core.ErrNotFound, "creation rolled back")
				got, err := docs.Get(ctx, existing.ID)
				require.NoError(t, err, "deletion rolled back")
				requireSameDocument(t, *existing, got, true)
				got, err = docs.GetDeleted(ctx, deleted.ID)
				require.NoError(t, err, "restore rolled back")
				require.Equal(t, 1, got.Version)
				list, err := docs.List(ctx, ports.DocumentFilter{})
				require.NoError(t, err)
				require.Equal(t, []uuid.UUID{existing.ID}, documentIDs(list))
				for _, q := range []string{"comets", "volcanoes"} {
					list, err = docs.List(ctx, ports.DocumentFilter{Query: q})
					require.NoError(t, err)
					require.Empty(t, list, q)
				}
				list, err = docs.List(ctx, ports.DocumentFilter{Query: "lighthouses"})
				require.NoError(t, err)
				require.Equal(t, []uuid.UUID{existing.ID}, documentIDs(list))
				count, size, err := docs.Usage(ctx)
				require.NoError(t, err)
				require.Equal(t, 1, count)
				require.Equal(t, int64(5), size)
				return nil
			})
			// The id is free again.
			storeCreateDocument(t, uow, created)
		})
	}
}

// storeDocument returns a new text document with a fresh id and the given
// title and text, to be created by createdBy in workspaceID.
func storeDocument(workspaceID, createdBy uuid.UUID, title, text string) *core.Document {
	return &core.Document{
		ID: uuid.New(), WorkspaceID: workspaceID, CreatedBy: createdBy, Title: title,
		ContentType: "text/plain", SizeBytes: int64(len(text)), WordCount: len(strings.Fields(text)),
		SHA256: strings.Repeat("0f", 32), Text: text, Metadata: map[string]any{"charset": "utf-8"},
	}
}

// storeCreateDocument creates d in a transaction scoped to its creator and
// workspace.
func storeCreateDocument(t *testing.T, uow ports.UnitOfWork, d *core.Document) {
	t.Helper()
	storeDo(t, storeScope(d.CreatedBy, d.WorkspaceID), uow, func(ctx context.Context, tx ports.Tx) error {
		return tx.Documents().Create(ctx, d)
	})
}

// storeGetDocument reads a live document in a transaction scoped by ctx.
func storeGetDocument(t *testing.T, ctx context.Context, uow ports.UnitOfWork, id uuid.UUID) core.Document {
	t.Helper()
	var got core.Document
	storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
		var err error
		got, err = tx.Documents().Get(ctx, id)
		return err
	})
	return got
}

// requireSameDocument compares a document read back with what was written,
// its metadata as JSON would return it, its text only when withText (lists
// leave it out), and its DeletedAt not at all.
func requireSameDocument(t *testing.T, want, got core.Document, withText bool) {
	t.Helper()
	require.Equal(t, want.ID, got.ID)
	require.Equal(t, want.WorkspaceID, got.WorkspaceID)
	require.Equal(t, want.CreatedBy, got.CreatedBy)
	require.Equal(t, want.Title, got.Title)
	require.Equal(t, want.Description, got.Description)
	require.Equal(t, want.OriginalFilename, got.OriginalFilename)
	require.Equal(t, want.ContentType, got.ContentType)
	require.Equal(t, want.SizeBytes, got.SizeBytes)
	require.Equal(t, want.WordCount, got.WordCount)
	require.Equal(t, want.SHA256, got.SHA256)
	require.Equal(t, want.Version, got.Version)
	require.Equal(t, asJSON(t, want.Metadata), got.Metadata)
	if withText {
		require.Equal(t, want.Text, got.Text)
	} else {
		require.Empty(t, got.Text)
	}
	require.WithinDuration(t, want.CreatedAt, got.CreatedAt, 0)
	require.WithinDuration(t, want.UpdatedAt, got.UpdatedAt, 0)
}

// asJSON returns m as decoding its JSON yields it ({} for nil).
func asJSON(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	if m == nil {
		return map[string]any{}
	}
	raw, err := json.Marshal(m)
	require.NoError(t, err)
	out := map[string]any{}
	require.NoError(t, json.Unmarshal(raw, &out))
	return out
}

func documentIDs(docs []core.Document) []uuid.UUID {
	out := make([]uuid.UUID, len(docs))
	for i, d := range docs {
		out[i] = d.ID
	}
	return out
}

func docPtrIDs(docs []*core.Document) []uuid.UUID {
	out := make([]uuid.UUID, len(docs))
	for i, d := range docs {
		out[i] = d.ID
	}
	return out
}
