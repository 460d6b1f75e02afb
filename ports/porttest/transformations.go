package porttest

import (
	"bytes"
	"context"
	"errors"
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

// TestTransformationStore is the contract of ports.TransformationStore, used
// from correctly scoped transactions (TestTransformationIsolation covers the
// others). newUoW may return units of work over one shared database: every
// subtest works in workspaces of its own, and the subtests run in parallel.
func TestTransformationStore(t *testing.T, newUoW func(t *testing.T) ports.UnitOfWork) {
	t.Helper()
	t0 := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

	t.Run("create and get round trip", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user, w := storeNewTenant(t, uow)
		ctx := storeScope(user.ID, w.ID)
		doc := storeDocument(w.ID, user.ID, "Source", "Words.")
		storeCreateDocument(t, uow, doc)
		preset := storePreset(w.ID, user.ID, "Short summaries", false)
		storeCreatePreset(t, uow, preset)

		tr := &core.Transformation{
			WorkspaceID: w.ID, DocumentID: doc.ID, CreatedBy: user.ID, Type: "SOCIAL_MEDIA",
			Parameters: map[string]any{"platform": "twitter", "post_count": 3, "hashtags": true,
				"sections": []string{"a", "b"}, "nested": map[string]any{"k": "v"}},
			PresetID: &preset.ID, RequestedProvider: "openai",
			Status: core.StatusCompleted, // ignored: created PENDING
		}
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Transformations().Create(ctx, tr)
		})
		require.NotEqual(t, uuid.Nil, tr.ID)
		require.Equal(t, core.StatusPending, tr.Status)
		require.False(t, tr.CreatedAt.IsZero())
		tr.Parameters["platform"] = "changed after create"

		got := storeGetTransformation(t, ctx, uow, tr.ID)
		require.Equal(t, tr.ID, got.ID)
		require.Equal(t, w.ID, got.WorkspaceID)
		require.Equal(t, doc.ID, got.DocumentID)
		require.Equal(t, user.ID, got.CreatedBy)
		require.Equal(t, "SOCIAL_MEDIA", got.Type)
		require.Equal(t, map[string]any{"platform": "twitter", "post_count": float64(3), "hashtags": true,
			"sections": []any{"a", "b"}, "nested": map[string]any{"k": "v"}}, got.Parameters)
		require.NotNil(t, got.PresetID)
		require.Equal(t, preset.ID, *got.PresetID)
		require.Equal(t, "openai", got.RequestedProvider)
		require.Equal(t, core.StatusPending, got.Status)
		require.Zero(t, got.Progress)
		require.Zero(t, got.Attempts)
		require.Empty(t, got.Result)
		require.Empty(t, got.Parts)
		require.Nil(t, got.StartedAt)
		require.Nil(t, got.CompletedAt)
		require.Nil(t, got.HeartbeatAt)
		require.Nil(t, got.DeletedAt)
		require.WithinDuration(t, tr.CreatedAt, got.CreatedAt, 0)
		require.WithinDuration(t, tr.UpdatedAt, got.UpdatedAt, 0)

		// The store hands out copies.
		got.Parameters["nested"].(map[string]any)["k"] = "mutated"
		require.Equal(t, map[string]any{"k": "v"}, storeGetTransformation(t, ctx, uow, tr.ID).Parameters["nested"])

		// Given id and times, nil parameters, no preset.
		at := time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC)
		plain := &core.Transformation{ID: uuid.New(), WorkspaceID: w.ID, DocumentID: doc.ID, CreatedBy: user.ID,
			Type: "SUMMARY", CreatedAt: at, UpdatedAt: at}
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Transformations().Create(ctx, plain)
		})
		got = storeGetTransformation(t, ctx, uow, plain.ID)
		require.WithinDuration(t, at.Truncate(time.Microsecond), got.CreatedAt, 0)
		require.Equal(t, map[string]any{}, got.Parameters)
		require.Nil(t, got.PresetID)
		require.Empty(t, got.RequestedProvider)

		otherUser, other := storeNewTenant(t, uow)
		otherDoc := storeDocument(other.ID, otherUser.ID, "Elsewhere", "x")
		storeCreateDocument(t, uow, otherDoc)
		otherPreset := storePreset(other.ID, otherUser.ID, "Elsewhere", true)
		storeCreatePreset(t, uow, otherPreset)
		deletedDoc := storeDocument(w.ID, user.ID, "Deleted", "x")
		storeCreateDocument(t, uow, deletedDoc)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Documents().SoftDelete(ctx, deletedDoc.ID, t0)
		})
		for name, c := range map[string]core.Transformation{
			"the id is taken":             {ID: tr.ID, WorkspaceID: w.ID, DocumentID: doc.ID, CreatedBy: user.ID},
			"unknown document":            {WorkspaceID: w.ID, DocumentID: uuid.New(), CreatedBy: user.ID},
			"a document of another":       {WorkspaceID: w.ID, DocumentID: otherDoc.ID, CreatedBy: user.ID},
			"a deleted document":          {WorkspaceID: w.ID, DocumentID: deletedDoc.ID, CreatedBy: user.ID},
			"a preset of another":         {WorkspaceID: w.ID, DocumentID: doc.ID, CreatedBy: user.ID, PresetID: &otherPreset.ID},
			"unknown preset":              {WorkspaceID: w.ID, DocumentID: doc.ID, CreatedBy: user.ID, PresetID: uuidRef(uuid.New())},
			"unknown creator":             {WorkspaceID: w.ID, DocumentID: doc.ID, CreatedBy: uuid.New()},
			"another workspace":           {WorkspaceID: other.ID, DocumentID: otherDoc.ID, CreatedBy: user.ID},
			"no workspace":                {DocumentID: doc.ID, CreatedBy: user.ID},
			"the document of A in B's id": {WorkspaceID: other.ID, DocumentID: doc.ID, CreatedBy: user.ID},
		} {
			c.Type = "SUMMARY"
			want := core.ErrNotFound
			if name == "the id is taken" {
				want = core.ErrConflict
			}
			require.ErrorIs(t, uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
				return tx.Transformations().Create(ctx, &c)
			}), want, name)
		}
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			list, err := tx.Transformations().List(ctx, ports.TransformationFilter{})
			require.NoError(t, err)
			require.ElementsMatch(t, []uuid.UUID{tr.ID, plain.ID}, transformationIDs(list), "nothing rejected was stored")
			return nil
		})
	})

	t.Run("list filters and keyset pages", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user, w := storeNewTenant(t, uow)
		otherUser, other := storeNewTenant(t, uow)
		ctx := storeScope(user.ID, w.ID)
		docA := storeDocument(w.ID, user.ID, "A", "x")
		docB := storeDocument(w.ID, user.ID, "B", "x")
		storeCreateDocument(t, uow, docA)
		storeCreateDocument(t, uow, docB)
		const n = 25
		trs := make([]*core.Transformation, n)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			for i := range trs {
				doc, typ := docA, "SUMMARY"
				if i%2 == 1 {
					doc = docB
				}
				if i%5 == 0 {
					typ = "BLOG_POST"
				}
				trs[i] = storeTransformation(w.ID, doc.ID, user.ID, typ)
				// Groups of three share their time, so order among them is by id.
				trs[i].CreatedAt = t0.Add(time.Duration(i/3) * time.Minute)
				require.NoError(t, tx.Transformations().Create(ctx, trs[i]))
			}
			// Three of them are claimed, one deleted.
			for _, i := range []int{3, 4, 7} {
				_, err := tx.Transformations().Claim(ctx, trs[i].ID, t0)
				require.NoError(t, err)
			}
			return nil
		})
		deleted := storeTransformation(w.ID, docA.ID, user.ID, "SUMMARY")
		deleted.CreatedAt = t0.Add(time.Hour)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			require.NoError(t, tx.Transformations().Create(ctx, deleted))
			return tx.Transformations().SoftDelete(ctx, deleted.ID, t0)
		})
		otherDoc := storeDocument(other.ID, otherUser.ID, "O", "x")
		storeCreateDocument(t, uow, otherDoc)
		storeDo(t, storeScope(otherUser.ID, other.ID), uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Transformations().Create(ctx, storeTransformation(other.ID, otherDoc.ID, otherUser.ID, "SUMMARY"))
		})

		sorted := append([]*core.Transformation{}, trs...)
		sort.Slice(sorted, func(i, j int) bool {
			if !sorted[i].CreatedAt.Equal(sorted[j].CreatedAt) {
				return sorted[i].CreatedAt.After(sorted[j].CreatedAt)
			}
			return bytes.Compare(sorted[i].ID[:], sorted[j].ID[:]) > 0
		})
		want := func(keep func(i int) bool) []uuid.UUID {
			out := []uuid.UUID{}
			for _, tr := range sorted {
				for i := range trs {
					if trs[i] == tr && keep(i) {
						out = append(out, tr.ID)
					}
				}
			}
			return out
		}
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			list := func(f ports.TransformationFilter) []uuid.UUID {
				t.Helper()
				got, err := tx.Transformations().List(ctx, f)
				require.NoError(t, err)
				return transformationIDs(got)
			}
			all := want(func(int) bool { return true })
			require.Equal(t, all, list(ports.TransformationFilter{}))
			require.Equal(t, all, list(ports.TransformationFilter{Limit: -1}))
			require.Equal(t, all[:7], list(ports.TransformationFilter{Limit: 7}))
			require.Equal(t, want(func(i int) bool { return i == 3 || i == 4 || i == 7 }),
				list(ports.TransformationFilter{Status: core.StatusProcessing}))
			require.Equal(t, want(func(i int) bool { return i != 3 && i != 4 && i != 7 }),
				list(ports.TransformationFilter{Status: core.StatusPending}))
			require.Empty(t, list(ports.TransformationFilter{Status: core.StatusCompleted}))
			require.Equal(t, want(func(i int) bool { return i%2 == 1 }), list(ports.TransformationFilter{DocumentID: &docB.ID}))
			require.Equal(t, want(func(i int) bool { return i%5 == 0 }), list(ports.TransformationFilter{Type: "BLOG_POST"}))
			require.Equal(t, want(func(i int) bool { return i%5 == 0 && i%2 == 0 }),
				list(ports.TransformationFilter{Type: "BLOG_POST", DocumentID: &docA.ID}))
			require.Empty(t, list(ports.TransformationFilter{DocumentID: &otherDoc.ID}))

			var paged []uuid.UUID
			var sizes []int
			f := ports.TransformationFilter{Limit: 10}
			for range n {
				page, err := tx.Transformations().List(ctx, f)
				require.NoError(t, err)
				sizes = append(sizes, len(page))
				if len(page) == 0 {
					break
				}
				paged = append(paged, transformationIDs(page)...)
				last := page[len(page)-1]
				f.Before = &ports.TransformationPosition{CreatedAt: last.CreatedAt, ID: last.ID}
			}
			require.Equal(t, []int{10, 10, 5, 0}, sizes)
			require.Equal(t, all, paged)

			processing, err := tx.Transformations().CountProcessing(ctx)
			require.NoError(t, err)
			require.Equal(t, 3, processing)
			created, err := tx.Transformations().CountCreatedSince(ctx, t0)
			require.NoError(t, err)
			require.Equal(t, n+1, created, "deleted ones count")
			created, err = tx.Transformations().CountCreatedSince(ctx, t0.Add(7*time.Minute))
			require.NoError(t, err)
			require.Equal(t, 4+1, created, "at or after: 21..24 and the deleted one")
			return nil
		})
		storeDo(t, storeScope(user.ID, uuid.Nil), uow, func(ctx context.Context, tx ports.Tx) error {
			got, err := tx.Transformations().List(ctx, ports.TransformationFilter{})
			require.NoError(t, err)
			require.Empty(t, got)
			c, err := tx.Transformations().CountCreatedSince(ctx, time.Time{})
			require.NoError(t, err)
			require.Zero(t, c)
			c, err = tx.Transformations().CountProcessing(ctx)
			require.NoError(t, err)
			require.Zero(t, c)
			return nil
		})
	})

	t.Run("claim for run: the claim with the plan and the live document", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user, w := storeNewTenant(t, uow)
		ctx := storeScope(user.ID, w.ID)
		doc := storeDocument(w.ID, user.ID, "Source", "The text to transform.")
		storeCreateDocument(t, uow, doc)
		live, orphan := storeTransformation(w.ID, doc.ID, user.ID, "SUMMARY"), storeTransformation(w.ID, doc.ID, user.ID, "SUMMARY")
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			require.NoError(t, tx.Transformations().Create(ctx, live))
			return tx.Transformations().Create(ctx, orphan)
		})
		t1 := t0.Add(time.Minute)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			job, err := tx.Transformations().ClaimForRun(ctx, live.ID, t1)
			require.NoError(t, err)
			require.Equal(t, live.ID, job.Transformation.ID)
			require.Equal(t, core.StatusProcessing, job.Transformation.Status)
			require.Equal(t, 1, job.Transformation.Attempts)
			require.WithinDuration(t, t1, *job.Transformation.HeartbeatAt, 0)
			require.Equal(t, w.Plan, job.Plan)
			require.NotNil(t, job.Document)
			require.Equal(t, doc.ID, job.Document.ID)
			require.Equal(t, "The text to transform.", job.Document.Text)

			_, err = tx.Transformations().ClaimForRun(ctx, live.ID, t1)
			require.ErrorIs(t, err, core.ErrNotFound, "claimed already")
			_, err = tx.Transformations().ClaimForRun(ctx, uuid.New(), t1)
			require.ErrorIs(t, err, core.ErrNotFound, "unknown")
			return nil
		})

		// The document deleted since the job was queued: claimed, no document.
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Documents().SoftDelete(ctx, doc.ID, t1)
		})
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			job, err := tx.Transformations().ClaimForRun(ctx, orphan.ID, t1)
			require.NoError(t, err)
			require.Equal(t, core.StatusProcessing, job.Transformation.Status)
			require.Nil(t, job.Document)
			return nil
		})
	})

	t.Run("claim for run in a deleted workspace: not found", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user, w, _, tr := storeNewJob(t, uow, "SUMMARY")
		ctx := storeScope(user.ID, w.ID)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Workspaces().SoftDelete(ctx, t0)
		})
		err := uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
			_, err := tx.Transformations().ClaimForRun(ctx, tr.ID, t0)
			return err
		})
		require.ErrorIs(t, err, core.ErrNotFound)
	})

	t.Run("the life of a job", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user, w, _, tr := storeNewJob(t, uow, "NEWSLETTER")
		ctx := storeScope(user.ID, w.ID)
		do := func(fn func(s ports.TransformationStore)) {
			t.Helper()
			storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
				fn(tx.Transformations())
				return nil
			})
		}
		t1, t2, t3 := t0.Add(time.Minute), t0.Add(2*time.Minute), t0.Add(3*time.Minute)
		do(func(s ports.TransformationStore) {
			require.ErrorIs(t, s.Progress(ctx, tr.ID, 10, "early", t1), core.ErrNotFound, "progress of a pending job")
			_, err := s.Complete(ctx, tr.ID, core.TransformationOutcome{Result: "x"}, t1)
			require.ErrorIs(t, err, core.ErrNotFound, "complete a pending job")
			_, err = s.Fail(ctx, tr.ID, "x", t1)
			require.ErrorIs(t, err, core.ErrNotFound)
			_, err = s.Requeue(ctx, tr.ID, "x", t1)
			require.ErrorIs(t, err, core.ErrNotFound)
			_, err = s.Claim(ctx, uuid.New(), t1)
			require.ErrorIs(t, err, core.ErrNotFound, "unknown")

			got, err := s.Claim(ctx, tr.ID, t1)
			require.NoError(t, err)
			require.Equal(t, core.StatusProcessing, got.Status)
			require.Equal(t, 1, got.Attempts)
			require.Zero(t, got.Progress)
			require.NotNil(t, got.StartedAt)
			require.WithinDuration(t, t1, *got.StartedAt, 0)
			require.WithinDuration(t, t1, *got.HeartbeatAt, 0)
			require.WithinDuration(t, t1, got.UpdatedAt, 0)
			_, err = s.Claim(ctx, tr.ID, t1)
			require.ErrorIs(t, err, core.ErrNotFound, "claimed already")

			require.NoError(t, s.Progress(ctx, tr.ID, 40, "drafting", t2))
			got, err = s.Get(ctx, tr.ID)
			require.NoError(t, err)
			require.Equal(t, 40, got.Progress)
			require.Equal(t, "drafting", got.Message)
			require.WithinDuration(t, t2, *got.HeartbeatAt, 0)

			// Requeue keeps the attempts; the next claim counts on.
			got, err = s.Requeue(ctx, tr.ID, "provider timed out", t2)
			require.NoError(t, err)
			require.Equal(t, core.StatusPending, got.Status)
			require.Equal(t, 1, got.Attempts)
			require.Equal(t, "provider timed out", got.Message)
			require.NoError(t, err)
			got, err = s.Claim(ctx, tr.ID, t3)
			require.NoError(t, err)
			require.Equal(t, 2, got.Attempts)
			require.WithinDuration(t, t1, *got.StartedAt, 0, "the first claim's start")

			parts := []core.OutputPart{{Title: "Intro", Body: "Hello 🎉"}, {Title: "Main", Body: "Body\nlines"}}
			got, err = s.Complete(ctx, tr.ID, core.TransformationOutcome{
				Result: "# Newsletter\n\nHello 🎉", Parts: parts, AIProvider: "anthropic", AIModel: "claude",
				InputTokens: 1200, OutputTokens: 340, AICost: 0.012345, ProcessingTimeMS: 4321,
			}, t3)
			require.NoError(t, err)
			for _, c := range []core.Transformation{got, func() core.Transformation {
				g, err := s.Get(ctx, tr.ID)
				require.NoError(t, err)
				return g
			}()} {
				require.Equal(t, core.StatusCompleted, c.Status)
				require.Equal(t, 100, c.Progress)
				require.Equal(t, "# Newsletter\n\nHello 🎉", c.Result)
				require.Equal(t, parts, c.Parts)
				require.Equal(t, "anthropic", c.AIProvider)
				require.Equal(t, "claude", c.AIModel)
				require.Equal(t, 1200, c.InputTokens)
				require.Equal(t, 340, c.OutputTokens)
				require.InDelta(t, 0.012345, c.AICost, 1e-9)
				require.Equal(t, int64(4321), c.ProcessingTimeMS)
				require.Equal(t, 2, c.Attempts)
				require.NotNil(t, c.CompletedAt)
				require.WithinDuration(t, t3, *c.CompletedAt, 0)
			}
			spent, err := s.SpendSince(ctx, time.Time{})
			require.NoError(t, err)
			require.InDelta(t, 0.012345, spent, 1e-9, "the completed job's cost counts toward the month's spend")
			spent, err = s.SpendSince(ctx, got.CreatedAt.Add(time.Hour))
			require.NoError(t, err)
			require.Zero(t, spent, "only jobs created since")
			_, err = s.Complete(ctx, tr.ID, core.TransformationOutcome{Result: "again"}, t3)
			require.ErrorIs(t, err, core.ErrNotFound, "completed already")
			require.ErrorIs(t, s.Progress(ctx, tr.ID, 50, "late", t3), core.ErrNotFound)

			_, err = s.Cancel(ctx, tr.ID, t3)
			require.Error(t, err)
			require.Equal(t, core.ECONFLICT, core.ErrorCode(err), "cancel a completed job: %v", err)
			_, err = s.Retry(ctx, tr.ID, t3)
			require.Equal(t, core.ECONFLICT, core.ErrorCode(err), "retry a completed job: %v", err)
		})
	})

	t.Run("cancel, fail and retry", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user, w := storeNewTenant(t, uow)
		ctx := storeScope(user.ID, w.ID)
		doc := storeDocument(w.ID, user.ID, "Source", "x")
		storeCreateDocument(t, uow, doc)
		pending := storeTransformation(w.ID, doc.ID, user.ID, "SUMMARY")
		running := storeTransformation(w.ID, doc.ID, user.ID, "SUMMARY")
		failing := storeTransformation(w.ID, doc.ID, user.ID, "SUMMARY")
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			for _, tr := range []*core.Transformation{pending, running, failing} {
				require.NoError(t, tx.Transformations().Create(ctx, tr))
			}
			for _, tr := range []*core.Transformation{running, failing} {
				_, err := tx.Transformations().Claim(ctx, tr.ID, t0)
				require.NoError(t, err)
			}
			return nil
		})
		at := t0.Add(time.Minute)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			s := tx.Transformations()
			_, err := s.Retry(ctx, pending.ID, at)
			require.Equal(t, core.ECONFLICT, core.ErrorCode(err), "retry a pending job: %v", err)
			require.NotErrorIs(t, err, core.ErrNotFound)
			_, err = s.Retry(ctx, running.ID, at)
			require.Equal(t, core.ECONFLICT, core.ErrorCode(err), "retry a running job: %v", err)

			for _, tr := range []*core.Transformation{pending, running} {
				got, err := s.Cancel(ctx, tr.ID, at)
				require.NoError(t, err)
				require.Equal(t, core.StatusCancelled, got.Status)
				require.WithinDuration(t, at, *got.CompletedAt, 0)
				_, err = s.Cancel(ctx, tr.ID, at)
				require.Equal(t, core.ECONFLICT, core.ErrorCode(err), "cancelled already: %v", err)
				require.Contains(t, core.AsError(err).Message, "CANCELLED")
			}
			// The cancelled job's late result is dropped.
			_, err = s.Complete(ctx, running.ID, core.TransformationOutcome{Result: "late result"}, at)
			require.ErrorIs(t, err, core.ErrNotFound)
			_, err = s.Fail(ctx, running.ID, "late failure", at)
			require.ErrorIs(t, err, core.ErrNotFound)
			got, err := s.Get(ctx, running.ID)
			require.NoError(t, err)
			require.Equal(t, core.StatusCancelled, got.Status)
			require.Empty(t, got.Result, "the late result is not written")
			require.Empty(t, got.ErrorMessage)

			got, err = s.Fail(ctx, failing.ID, "the provider refused", at)
			require.NoError(t, err)
			require.Equal(t, core.StatusFailed, got.Status)
			require.Equal(t, "the provider refused", got.ErrorMessage)
			require.WithinDuration(t, at, *got.CompletedAt, 0)
			_, err = s.Cancel(ctx, failing.ID, at)
			require.Equal(t, core.ECONFLICT, core.ErrorCode(err), "cancel a failed job: %v", err)

			_, err = s.Cancel(ctx, uuid.New(), at)
			require.ErrorIs(t, err, core.ErrNotFound)
			_, err = s.Retry(ctx, uuid.New(), at)
			require.ErrorIs(t, err, core.ErrNotFound)
			return nil
		})
		later := t0.Add(time.Hour)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			s := tx.Transformations()
			for _, tr := range []*core.Transformation{running, failing} {
				got, err := s.Retry(ctx, tr.ID, later)
				require.NoError(t, err)
				require.Equal(t, core.StatusPending, got.Status)
				require.Zero(t, got.Progress)
				require.Empty(t, got.ErrorMessage)
				require.Empty(t, got.Result)
				require.Empty(t, got.Parts)
				require.Nil(t, got.CompletedAt)
				require.Equal(t, 1, got.Attempts)
				require.WithinDuration(t, later, got.UpdatedAt, 0)
				got, err = s.Claim(ctx, tr.ID, later)
				require.NoError(t, err)
				require.Equal(t, 2, got.Attempts)
			}
			return nil
		})
	})

	t.Run("concurrent claims: exactly one wins", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user, w, _, tr := storeNewJob(t, uow, "SUMMARY")
		ctx := storeScope(user.ID, w.ID)
		const n = 8
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
					_, err := tx.Transformations().Claim(ctx, tr.ID, t0)
					return err
				})
			})
		}
		close(start)
		wg.Wait()
		wins := 0
		for i, err := range errs {
			if err == nil {
				wins++
				continue
			}
			require.ErrorIs(t, err, core.ErrNotFound, "claimer %d", i)
		}
		require.Equal(t, 1, wins)
		require.Equal(t, 1, storeGetTransformation(t, ctx, uow, tr.ID).Attempts)
	})

	t.Run("soft delete hides", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user, w := storeNewTenant(t, uow)
		ctx := storeScope(user.ID, w.ID)
		doc := storeDocument(w.ID, user.ID, "Source", "x")
		storeCreateDocument(t, uow, doc)
		tr := storeTransformation(w.ID, doc.ID, user.ID, "SUMMARY")
		keep := storeTransformation(w.ID, doc.ID, user.ID, "SUMMARY")
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			require.NoError(t, tx.Transformations().Create(ctx, tr))
			require.NoError(t, tx.Transformations().Create(ctx, keep))
			_, err := tx.Transformations().Claim(ctx, keep.ID, t0)
			return err
		})
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			s := tx.Transformations()
			require.NoError(t, s.SoftDelete(ctx, tr.ID, t0))
			_, err := s.Get(ctx, tr.ID)
			require.ErrorIs(t, err, core.ErrNotFound)
			list, err := s.List(ctx, ports.TransformationFilter{})
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{keep.ID}, transformationIDs(list))
			require.ErrorIs(t, s.SoftDelete(ctx, tr.ID, t0), core.ErrNotFound, "deleted already")
			require.ErrorIs(t, s.SoftDelete(ctx, uuid.New(), t0), core.ErrNotFound)
			_, err = s.Claim(ctx, tr.ID, t0)
			require.ErrorIs(t, err, core.ErrNotFound, "a deleted job is not claimed")
			_, err = s.Cancel(ctx, tr.ID, t0)
			require.ErrorIs(t, err, core.ErrNotFound)
			_, err = s.Retry(ctx, tr.ID, t0)
			require.ErrorIs(t, err, core.ErrNotFound)
			count, err := s.CountCreatedSince(ctx, time.Time{})
			require.NoError(t, err)
			require.Equal(t, 2, count, "deleted ones count against quotas")
			return nil
		})
	})

	for _, failure := range storeFailures() {
		t.Run("a failed transaction leaves no trace: "+failure.name, func(t *testing.T) {
			t.Parallel()
			uow := newUoW(t)
			user, w := storeNewTenant(t, uow)
			ctx := storeScope(user.ID, w.ID)
			doc := storeDocument(w.ID, user.ID, "Source", "x")
			storeCreateDocument(t, uow, doc)
			pending := storeTransformation(w.ID, doc.ID, user.ID, "SUMMARY")
			running := storeTransformation(w.ID, doc.ID, user.ID, "SUMMARY")
			storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
				require.NoError(t, tx.Transformations().Create(ctx, pending))
				require.NoError(t, tx.Transformations().Create(ctx, running))
				_, err := tx.Transformations().Claim(ctx, running.ID, t0)
				return err
			})
			created := storeTransformation(w.ID, doc.ID, user.ID, "SUMMARY")
			failure.run(t, ctx, uow, func(ctx context.Context, tx ports.Tx) {
				s := tx.Transformations()
				require.NoError(t, s.Create(ctx, created))
				_, err := s.Claim(ctx, pending.ID, t0)
				require.NoError(t, err)
				_, err = s.Complete(ctx, running.ID, core.TransformationOutcome{Result: "r", Parts: []core.OutputPart{{Body: "r"}}}, t0)
				require.NoError(t, err)
				require.NoError(t, s.SoftDelete(ctx, pending.ID, t0))
			})
			storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
				s := tx.Transformations()
				_, err := s.Get(ctx, created.ID)
				require.ErrorIs(t, err, core.ErrNotFound)
				got, err := s.Get(ctx, pending.ID)
				require.NoError(t, err)
				require.Equal(t, core.StatusPending, got.Status)
				require.Zero(t, got.Attempts)
				got, err = s.Get(ctx, running.ID)
				require.NoError(t, err)
				require.Equal(t, core.StatusProcessing, got.Status)
				require.Empty(t, got.Result)
				require.Empty(t, got.Parts)
				count, err := s.CountCreatedSince(ctx, time.Time{})
				require.NoError(t, err)
				require.Equal(t, 2, count)
				return nil
			})
		})
	}
}

// TestPresetStore is the contract of ports.PresetStore.
func TestPresetStore(t *testing.T, newUoW func(t *testing.T) ports.UnitOfWork) {
	t.Helper()
	t0 := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

	t.Run("create, get, names unique in any case", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user, w := storeNewTenant(t, uow)
		otherUser, other := storeNewTenant(t, uow)
		ctx := storeScope(user.ID, w.ID)
		p := storePreset(w.ID, user.ID, "Crisp LinkedIn", true)
		p.Description = "Three posts"
		p.Parameters = map[string]any{"platform": "linkedin", "post_count": 3}
		storeCreatePreset(t, uow, p)
		require.False(t, p.CreatedAt.IsZero())
		got := storeGetPreset(t, ctx, uow, p.ID)
		require.Equal(t, p.ID, got.ID)
		require.Equal(t, w.ID, got.WorkspaceID)
		require.Equal(t, user.ID, got.CreatedBy)
		require.Equal(t, "Crisp LinkedIn", got.Name)
		require.Equal(t, "Three posts", got.Description)
		require.Equal(t, "SOCIAL_MEDIA", got.Type)
		require.Equal(t, map[string]any{"platform": "linkedin", "post_count": float64(3)}, got.Parameters)
		require.True(t, got.IsShared)
		require.Zero(t, got.UsageCount)
		require.WithinDuration(t, p.CreatedAt, got.CreatedAt, 0)

		dup := storePreset(w.ID, user.ID, "CRISP linkedin", false)
		err := uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error { return tx.Presets().Create(ctx, dup) })
		require.ErrorIs(t, err, core.ErrConflict)
		require.Equal(t, "a preset with this name exists", core.AsError(err).Message)
		// Another workspace may use the name.
		storeCreatePreset(t, uow, storePreset(other.ID, otherUser.ID, "Crisp LinkedIn", false))
		for name, c := range map[string]*core.Preset{
			"another workspace": storePreset(other.ID, user.ID, "X", true),
			"no workspace":      storePreset(uuid.Nil, user.ID, "X", true),
			"unknown creator":   storePreset(w.ID, uuid.New(), "X", true),
		} {
			require.ErrorIs(t, uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
				return tx.Presets().Create(ctx, c)
			}), core.ErrNotFound, name)
		}
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			_, err := tx.Presets().Get(ctx, uuid.New())
			require.ErrorIs(t, err, core.ErrNotFound)
			list, err := tx.Presets().List(ctx, ports.PresetFilter{IncludeShared: true})
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{p.ID}, presetIDs(list))
			return nil
		})
	})

	t.Run("visibility: own and shared", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		x, w := storeNewTenant(t, uow)
		y := storeCreateUser(t, uow, storeEmail())
		storeAddMember(t, uow, w.ID, y.ID, core.RoleMember)
		asX, asY := storeScope(x.ID, w.ID), storeScope(y.ID, w.ID)
		private := storePreset(w.ID, x.ID, "X private", false)
		private.CreatedAt = t0.Add(3 * time.Minute)
		shared := storePreset(w.ID, x.ID, "X shared", true)
		shared.CreatedAt = t0.Add(2 * time.Minute)
		mine := storePreset(w.ID, y.ID, "Y private", false)
		mine.CreatedAt = t0.Add(time.Minute)
		mine.Type = "SUMMARY"
		for _, p := range []*core.Preset{private, shared, mine} {
			storeCreatePreset(t, uow, p)
		}
		storeDo(t, asY, uow, func(ctx context.Context, tx ports.Tx) error {
			s := tx.Presets()
			_, err := s.Get(ctx, private.ID)
			require.ErrorIs(t, err, core.ErrNotFound, "X's private preset")
			_, err = s.Get(ctx, shared.ID)
			require.NoError(t, err)
			list, err := s.List(ctx, ports.PresetFilter{IncludeShared: true})
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{shared.ID, mine.ID}, presetIDs(list))
			list, err = s.List(ctx, ports.PresetFilter{})
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{mine.ID}, presetIDs(list), "own only")
			list, err = s.List(ctx, ports.PresetFilter{IncludeShared: true, Type: "SOCIAL_MEDIA"})
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{shared.ID}, presetIDs(list))
			list, err = s.List(ctx, ports.PresetFilter{IncludeShared: true, Limit: 1})
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{shared.ID}, presetIDs(list))
			list, err = s.List(ctx, ports.PresetFilter{IncludeShared: true, Limit: 1,
				Before: &ports.TransformationPosition{CreatedAt: list[0].CreatedAt, ID: list[0].ID}})
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{mine.ID}, presetIDs(list))

			// Writes to the invisible one are not found.
			upd := *private
			upd.Name = "pwned"
			_, err = s.Update(ctx, upd, t0)
			require.ErrorIs(t, err, core.ErrNotFound)
			require.ErrorIs(t, s.Delete(ctx, private.ID), core.ErrNotFound)
			require.ErrorIs(t, s.IncrementUsage(ctx, private.ID), core.ErrNotFound)
			// The shared one is usable.
			require.NoError(t, s.IncrementUsage(ctx, shared.ID))
			require.NoError(t, s.IncrementUsage(ctx, shared.ID))
			return nil
		})
		got := storeGetPreset(t, asX, uow, private.ID)
		require.Equal(t, "X private", got.Name)
		require.Zero(t, got.UsageCount)
		got = storeGetPreset(t, asX, uow, shared.ID)
		require.Equal(t, 2, got.UsageCount)
		require.WithinDuration(t, shared.UpdatedAt, got.UpdatedAt, 0, "usage leaves UpdatedAt")
		storeDo(t, asX, uow, func(ctx context.Context, tx ports.Tx) error {
			list, err := tx.Presets().List(ctx, ports.PresetFilter{IncludeShared: true})
			require.NoError(t, err)
			require.Equal(t, []uuid.UUID{private.ID, shared.ID}, presetIDs(list))
			return nil
		})
	})

	t.Run("update and delete", func(t *testing.T) {
		t.Parallel()
		uow := newUoW(t)
		user, w := storeNewTenant(t, uow)
		ctx := storeScope(user.ID, w.ID)
		p := storePreset(w.ID, user.ID, "Original", false)
		other := storePreset(w.ID, user.ID, "Taken", false)
		storeCreatePreset(t, uow, p)
		storeCreatePreset(t, uow, other)
		doc := storeDocument(w.ID, user.ID, "Source", "x")
		storeCreateDocument(t, uow, doc)
		tr := storeTransformation(w.ID, doc.ID, user.ID, "SOCIAL_MEDIA")
		tr.PresetID = &p.ID
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			return tx.Transformations().Create(ctx, tr)
		})
		at := t0.Add(time.Hour)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			s := tx.Presets()
			upd := *p
			upd.Name, upd.Description, upd.Parameters, upd.IsShared = "Renamed", "now described", map[string]any{"tone": "dry"}, true
			upd.Type, upd.UsageCount, upd.CreatedBy = "CUSTOM", 99, uuid.New() // not Update's to change
			got, err := s.Update(ctx, upd, at)
			require.NoError(t, err)
			require.Equal(t, "Renamed", got.Name)
			require.Equal(t, "now described", got.Description)
			require.Equal(t, map[string]any{"tone": "dry"}, got.Parameters)
			require.True(t, got.IsShared)
			require.Equal(t, "SOCIAL_MEDIA", got.Type)
			require.Zero(t, got.UsageCount)
			require.Equal(t, user.ID, got.CreatedBy)
			require.WithinDuration(t, at, got.UpdatedAt, 0)

			return nil
		})
		// A statement error ends a PostgreSQL transaction: the conflict runs
		// in its own.
		upd := *p
		upd.Name = "TAKEN"
		err := uow.Do(ctx, func(ctx context.Context, tx ports.Tx) error {
			_, err := tx.Presets().Update(ctx, upd, at)
			return err
		})
		require.ErrorIs(t, err, core.ErrConflict)
		require.Equal(t, "a preset with this name exists", core.AsError(err).Message)
		require.Equal(t, "Renamed", storeGetPreset(t, ctx, uow, p.ID).Name)
		storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
			s := tx.Presets()
			upd.Name = "renamed" // its own name in another case
			_, err := s.Update(ctx, upd, at)
			require.NoError(t, err)
			_, err = s.Update(ctx, core.Preset{ID: uuid.New(), Name: "x"}, at)
			require.ErrorIs(t, err, core.ErrNotFound)

			require.NoError(t, s.Delete(ctx, p.ID))
			_, err = s.Get(ctx, p.ID)
			require.ErrorIs(t, err, core.ErrNotFound)
			require.ErrorIs(t, s.Delete(ctx, p.ID), core.ErrNotFound)
			require.ErrorIs(t, s.IncrementUsage(ctx, p.ID), core.ErrNotFound)
			got2, err := tx.Transformations().Get(ctx, tr.ID)
			require.NoError(t, err)
			require.Nil(t, got2.PresetID, "the transformation loses the reference")
			return nil
		})
		// The name is free again.
		storeCreatePreset(t, uow, storePreset(w.ID, user.ID, "Original", false))
	})

	for _, failure := range storeFailures() {
		t.Run("a failed transaction leaves no trace: "+failure.name, func(t *testing.T) {
			t.Parallel()
			uow := newUoW(t)
			user, w := storeNewTenant(t, uow)
			ctx := storeScope(user.ID, w.ID)
			existing := storePreset(w.ID, user.ID, "Existing", false)
			doomed := storePreset(w.ID, user.ID, "Doomed", true)
			storeCreatePreset(t, uow, existing)
			storeCreatePreset(t, uow, doomed)
			doc := storeDocument(w.ID, user.ID, "Source", "x")
			storeCreateDocument(t, uow, doc)
			tr := storeTransformation(w.ID, doc.ID, user.ID, "SOCIAL_MEDIA")
			tr.PresetID = &doomed.ID
			storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
				return tx.Transformations().Create(ctx, tr)
			})
			created := storePreset(w.ID, user.ID, "Created", false)
			failure.run(t, ctx, uow, func(ctx context.Context, tx ports.Tx) {
				s := tx.Presets()
				require.NoError(t, s.Create(ctx, created))
				upd := *existing
				upd.Name = "Edited"
				_, err := s.Update(ctx, upd, t0)
				require.NoError(t, err)
				require.NoError(t, s.IncrementUsage(ctx, existing.ID))
				require.NoError(t, s.Delete(ctx, doomed.ID))
			})
			storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
				s := tx.Presets()
				_, err := s.Get(ctx, created.ID)
				require.ErrorIs(t, err, core.ErrNotFound)
				got, err := s.Get(ctx, existing.ID)
				require.NoError(t, err)
				require.Equal(t, "Existing", got.Name)
				require.Zero(t, got.UsageCount)
				_, err = s.Get(ctx, doomed.ID)
				require.NoError(t, err)
				trGot, err := tx.Transformations().Get(ctx, tr.ID)
				require.NoError(t, err)
				require.NotNil(t, trGot.PresetID)
				require.Equal(t, doomed.ID, *trGot.PresetID)
				return nil
			})
			storeCreatePreset(t, uow, created)
		})
	}
}

// TestTransformationIsolation: from a transaction scoped to another
// workspace, to no workspace or to no identity, A's transformations and
// presets are core.ErrNotFound for every method and absent from lists and
// counts, and nothing of A changes.
func TestTransformationIsolation(t *testing.T, newUoW func(t *testing.T) ports.UnitOfWork) {
	t.Helper()
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, sc := range []struct {
		name string
		inB  bool
		// member makes the outsider a member of A whose scope is B.
		scope func(b *core.User, wsB *core.Workspace) context.Context
	}{
		{"from another workspace", true, func(b *core.User, wsB *core.Workspace) context.Context { return storeScope(b.ID, wsB.ID) }},
		{"from a scope without workspace", false, func(b *core.User, _ *core.Workspace) context.Context { return storeScope(b.ID, uuid.Nil) }},
		{"from no identity", false, func(*core.User, *core.Workspace) context.Context { return context.Background() }},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			uow := newUoW(t)
			a, wsA := storeNewTenant(t, uow)
			b, wsB := storeNewTenant(t, uow)
			ctxA := storeScope(a.ID, wsA.ID)
			docA := storeDocument(wsA.ID, a.ID, "A", "x")
			docB := storeDocument(wsB.ID, b.ID, "B", "x")
			storeCreateDocument(t, uow, docA)
			storeCreateDocument(t, uow, docB)
			shared := storePreset(wsA.ID, a.ID, "A shared", true)
			private := storePreset(wsA.ID, a.ID, "A private", false)
			storeCreatePreset(t, uow, shared)
			storeCreatePreset(t, uow, private)
			trs := map[core.TransformationStatus]*core.Transformation{}
			storeDo(t, ctxA, uow, func(ctx context.Context, tx ports.Tx) error {
				s := tx.Transformations()
				for _, st := range []core.TransformationStatus{core.StatusPending, core.StatusProcessing, core.StatusFailed, core.StatusCompleted} {
					tr := storeTransformation(wsA.ID, docA.ID, a.ID, "SUMMARY")
					tr.PresetID = &shared.ID
					require.NoError(t, s.Create(ctx, tr))
					trs[st] = tr
					if st == core.StatusPending {
						continue
					}
					_, err := s.Claim(ctx, tr.ID, now)
					require.NoError(t, err)
					switch st {
					case core.StatusFailed:
						_, err = s.Fail(ctx, tr.ID, "x", now)
					case core.StatusCompleted:
						_, err = s.Complete(ctx, tr.ID, core.TransformationOutcome{Result: "r"}, now)
					}
					require.NoError(t, err)
				}
				return nil
			})
			snapshot := func() ([]core.Transformation, []core.Preset) {
				var list []core.Transformation
				var presets []core.Preset
				storeDo(t, ctxA, uow, func(ctx context.Context, tx ports.Tx) error {
					var err error
					list, err = tx.Transformations().List(ctx, ports.TransformationFilter{})
					require.NoError(t, err)
					presets, err = tx.Presets().List(ctx, ports.PresetFilter{IncludeShared: true})
					require.NoError(t, err)
					return nil
				})
				return list, presets
			}
			beforeT, beforeP := snapshot()
			require.Len(t, beforeT, 4)
			require.Len(t, beforeP, 2)

			ctx := sc.scope(b, wsB)
			storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
				s := tx.Transformations()
				for st, tr := range trs {
					_, err := s.Get(ctx, tr.ID)
					require.ErrorIs(t, err, core.ErrNotFound, st)
				}
				list, err := s.List(ctx, ports.TransformationFilter{})
				require.NoError(t, err)
				require.Empty(t, list)
				list, err = s.List(ctx, ports.TransformationFilter{DocumentID: &docA.ID})
				require.NoError(t, err)
				require.Empty(t, list)
				n, err := s.CountProcessing(ctx)
				require.NoError(t, err)
				require.Zero(t, n)
				n, err = s.CountCreatedSince(ctx, time.Time{})
				require.NoError(t, err)
				require.Zero(t, n)
				for name, id := range map[string]uuid.UUID{"shared": shared.ID, "private": private.ID} {
					_, err := tx.Presets().Get(ctx, id)
					require.ErrorIs(t, err, core.ErrNotFound, name)
				}
				presets, err := tx.Presets().List(ctx, ports.PresetFilter{IncludeShared: true})
				require.NoError(t, err)
				require.Empty(t, presets)
				return nil
			})
			at := now.Add(time.Minute)
			writes := map[string]func(ctx context.Context, tx ports.Tx) error{
				"Create in A": func(ctx context.Context, tx ports.Tx) error {
					return tx.Transformations().Create(ctx, storeTransformation(wsA.ID, docA.ID, b.ID, "SUMMARY"))
				},
				"Create with A's preset": func(ctx context.Context, tx ports.Tx) error {
					tr := storeTransformation(wsB.ID, docB.ID, b.ID, "SUMMARY")
					tr.PresetID = &shared.ID
					return tx.Transformations().Create(ctx, tr)
				},
				"Create with A's document": func(ctx context.Context, tx ports.Tx) error {
					return tx.Transformations().Create(ctx, storeTransformation(wsB.ID, docA.ID, b.ID, "SUMMARY"))
				},
				"Claim": func(ctx context.Context, tx ports.Tx) error {
					_, err := tx.Transformations().Claim(ctx, trs[core.StatusPending].ID, at)
					return err
				},
				"ClaimForRun": func(ctx context.Context, tx ports.Tx) error {
					_, err := tx.Transformations().ClaimForRun(ctx, trs[core.StatusPending].ID, at)
					return err
				},
				"Progress": func(ctx context.Context, tx ports.Tx) error {
					return tx.Transformations().Progress(ctx, trs[core.StatusProcessing].ID, 50, "x", at)
				},
				"Complete": func(ctx context.Context, tx ports.Tx) error {
					_, err := tx.Transformations().Complete(ctx, trs[core.StatusProcessing].ID, core.TransformationOutcome{Result: "pwned"}, at)
					return err
				},
				"Fail": func(ctx context.Context, tx ports.Tx) error {
					_, err := tx.Transformations().Fail(ctx, trs[core.StatusProcessing].ID, "pwned", at)
					return err
				},
				"Requeue": func(ctx context.Context, tx ports.Tx) error {
					_, err := tx.Transformations().Requeue(ctx, trs[core.StatusProcessing].ID, "pwned", at)
					return err
				},
				"Cancel a pending one": func(ctx context.Context, tx ports.Tx) error {
					_, err := tx.Transformations().Cancel(ctx, trs[core.StatusPending].ID, at)
					return err
				},
				"Cancel a final one (no conflict revealed)": func(ctx context.Context, tx ports.Tx) error {
					_, err := tx.Transformations().Cancel(ctx, trs[core.StatusCompleted].ID, at)
					return err
				},
				"Retry a failed one": func(ctx context.Context, tx ports.Tx) error {
					_, err := tx.Transformations().Retry(ctx, trs[core.StatusFailed].ID, at)
					return err
				},
				"Retry a pending one (no conflict revealed)": func(ctx context.Context, tx ports.Tx) error {
					_, err := tx.Transformations().Retry(ctx, trs[core.StatusPending].ID, at)
					return err
				},
				"SoftDelete": func(ctx context.Context, tx ports.Tx) error {
					return tx.Transformations().SoftDelete(ctx, trs[core.StatusPending].ID, at)
				},
				"Create a preset in A": func(ctx context.Context, tx ports.Tx) error {
					return tx.Presets().Create(ctx, storePreset(wsA.ID, b.ID, "Planted", true))
				},
				"Update A's shared preset": func(ctx context.Context, tx ports.Tx) error {
					p := *shared
					p.Name = "pwned"
					_, err := tx.Presets().Update(ctx, p, at)
					return err
				},
				"Update A's private preset": func(ctx context.Context, tx ports.Tx) error {
					p := *private
					p.Name = "pwned"
					_, err := tx.Presets().Update(ctx, p, at)
					return err
				},
				"Delete A's shared preset": func(ctx context.Context, tx ports.Tx) error {
					return tx.Presets().Delete(ctx, shared.ID)
				},
				"Delete A's private preset": func(ctx context.Context, tx ports.Tx) error {
					return tx.Presets().Delete(ctx, private.ID)
				},
				"IncrementUsage of A's preset": func(ctx context.Context, tx ports.Tx) error {
					return tx.Presets().IncrementUsage(ctx, shared.ID)
				},
			}
			for name, write := range writes {
				err := uow.Do(ctx, write)
				require.ErrorIs(t, err, core.ErrNotFound, name)
			}
			afterT, afterP := snapshot()
			require.Equal(t, beforeT, afterT, "A's transformations are unchanged")
			require.Equal(t, beforeP, afterP, "A's presets are unchanged")
			if sc.inB {
				storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
					list, err := tx.Transformations().List(ctx, ports.TransformationFilter{})
					require.NoError(t, err)
					require.Empty(t, list, "nothing was created in B")
					return nil
				})
			}
		})
	}
}

// storeFailures are the two ways a transaction fails after its writes.
func storeFailures() []struct {
	name string
	run  func(t *testing.T, ctx context.Context, uow ports.UnitOfWork, fn func(ctx context.Context, tx ports.Tx))
} {
	return []struct {
		name string
		run  func(t *testing.T, ctx context.Context, uow ports.UnitOfWork, fn func(ctx context.Context, tx ports.Tx))
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
	}
}

// storeTransformation returns a new transformation with a fresh id.
// storeNewJob creates a tenant, a document of theirs and a PENDING
// transformation of typ of it.
func storeNewJob(t *testing.T, uow ports.UnitOfWork, typ string) (*core.User, *core.Workspace, *core.Document, *core.Transformation) {
	t.Helper()
	user, w := storeNewTenant(t, uow)
	doc := storeDocument(w.ID, user.ID, "Source", "x")
	storeCreateDocument(t, uow, doc)
	tr := storeTransformation(w.ID, doc.ID, user.ID, typ)
	storeDo(t, storeScope(user.ID, w.ID), uow, func(ctx context.Context, tx ports.Tx) error {
		return tx.Transformations().Create(ctx, tr)
	})
	return user, w, doc, tr
}

func storeTransformation(workspaceID, documentID, createdBy uuid.UUID, typ string) *core.Transformation {
	return &core.Transformation{
		ID: uuid.New(), WorkspaceID: workspaceID, DocumentID: documentID, CreatedBy: createdBy,
		Type: typ, Parameters: map[string]any{"length": "short"},
	}
}

func storeGetTransformation(t *testing.T, ctx context.Context, uow ports.UnitOfWork, id uuid.UUID) core.Transformation {
	t.Helper()
	var got core.Transformation
	storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
		var err error
		got, err = tx.Transformations().Get(ctx, id)
		return err
	})
	return got
}

// storePreset returns a new SOCIAL_MEDIA preset with a fresh id; name gets a
// unique suffix only when it ends in a space.
func storePreset(workspaceID, createdBy uuid.UUID, name string, shared bool) *core.Preset {
	return &core.Preset{
		ID: uuid.New(), WorkspaceID: workspaceID, CreatedBy: createdBy, Name: strings.TrimSpace(name),
		Type: "SOCIAL_MEDIA", Parameters: map[string]any{"platform": "twitter"}, IsShared: shared,
	}
}

// storeCreatePreset creates p in a transaction scoped to its creator and
// workspace.
func storeCreatePreset(t *testing.T, uow ports.UnitOfWork, p *core.Preset) {
	t.Helper()
	storeDo(t, storeScope(p.CreatedBy, p.WorkspaceID), uow, func(ctx context.Context, tx ports.Tx) error {
		return tx.Presets().Create(ctx, p)
	})
}

func storeGetPreset(t *testing.T, ctx context.Context, uow ports.UnitOfWork, id uuid.UUID) core.Preset {
	t.Helper()
	var got core.Preset
	storeDo(t, ctx, uow, func(ctx context.Context, tx ports.Tx) error {
		var err error
		got, err = tx.Presets().Get(ctx, id)
		return err
	})
	return got
}

func transformationIDs(list []core.Transformation) []uuid.UUID {
	out := make([]uuid.UUID, len(list))
	for i, t := range list {
		out[i] = t.ID
	}
	return out
}

func presetIDs(list []core.Preset) []uuid.UUID {
	out := make([]uuid.UUID, len(list))
	for i, p := range list {
		out[i] = p.ID
	}
	return out
}

func uuidRef(id uuid.UUID) *uuid.UUID { return &id }
