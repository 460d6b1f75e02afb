package httpapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

const article = "Content repurposing turns one long article into many smaller pieces. " +
	"Teams save time when a single interview becomes posts, emails and a newsletter."

func (a *api) createDoc(acc account, title, content string) response {
	a.t.Helper()
	return a.do("POST", "/api/documents", map[string]any{"title": title, "content": content}, bearer(acc.access)...)
}

// uploadFile posts a multipart upload with one file part.
func (a *api) uploadFile(acc account, filename string, content []byte, fields map[string]string) response {
	a.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		require.NoError(a.t, w.WriteField(k, v))
	}
	if filename != "" {
		fw, err := w.CreateFormFile("file", filename)
		require.NoError(a.t, err)
		_, err = fw.Write(content)
		require.NoError(a.t, err)
	}
	require.NoError(a.t, w.Close())
	return a.do("POST", "/api/documents/upload", body.Bytes(), append(bearer(acc.access), "Content-Type", w.FormDataContentType())...)
}

func TestDocumentsCRUD(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, nil)
		acc := a.register("docs")
		r := a.createDoc(acc, "Repurposing 101", article)
		require.Equal(t, http.StatusCreated, r.status, string(r.raw))
		sum := sha256.Sum256([]byte(article))
		require.Equal(t, hex.EncodeToString(sum[:]), r.str("sha256"))
		require.EqualValues(t, 1, r.body["version"])
		require.EqualValues(t, 23, r.body["word_count"])
		require.Equal(t, "text/plain", r.str("content_type"))
		require.Equal(t, acc.workspaceID, r.str("workspace_id"))
		require.Equal(t, `"1"`, r.header.Get("ETag"))
		id := r.str("id")

		md := a.do("POST", "/api/documents/text", map[string]any{"title": "Notes", "content": "# Heading\n\nBody text here.", "content_type": "TEXT/MARKDOWN"}, bearer(acc.access)...)
		require.Equal(t, http.StatusCreated, md.status, string(md.raw))
		require.Equal(t, "text/markdown", md.str("content_type"))
		html := a.do("POST", "/api/documents", map[string]any{"title": "Page", "content": "<h1>Hi</h1><script>alert(1)</script><p>Visible words</p>", "content_type": "text/html"}, bearer(acc.access)...)
		require.Equal(t, http.StatusCreated, html.status, string(html.raw))
		c := a.do("GET", "/api/documents/"+html.str("id")+"/content", nil, bearer(acc.access)...)
		require.Contains(t, c.str("extracted_text"), "Visible words")
		require.NotContains(t, c.str("extracted_text"), "alert")

		got := a.do("GET", "/api/documents/"+id, nil, bearer(acc.access)...)
		require.Equal(t, http.StatusOK, got.status)
		require.Equal(t, "Repurposing 101", got.str("title"))
		content := a.do("GET", "/api/documents/"+id+"/content", nil, bearer(acc.access)...)
		require.Equal(t, article, content.str("extracted_text"))
		require.Equal(t, id, content.str("document_id"))

		list := a.do("GET", "/api/documents", nil, bearer(acc.access)...)
		require.EqualValues(t, 3, list.body["count"])
		require.Equal(t, html.str("id"), list.body["documents"].([]any)[0].(map[string]any)["id"], "newest first")
		require.NotContains(t, string(list.raw), "Visible words", "lists carry no text")
		search := a.do("GET", "/api/documents?q=interview", nil, bearer(acc.access)...)
		require.EqualValues(t, 1, search.body["count"], string(search.raw))
		require.EqualValues(t, 0, a.do("GET", "/api/documents?q=zebra", nil, bearer(acc.access)...).body["count"])
		page := a.do("GET", "/api/documents?limit=2", nil, bearer(acc.access)...)
		require.EqualValues(t, 2, page.body["count"])
		next := a.do("GET", "/api/documents?limit=2&cursor="+page.str("next_cursor"), nil, bearer(acc.access)...)
		require.EqualValues(t, 1, next.body["count"])
		require.Nil(t, next.body["next_cursor"])

		// Versioned edits.
		stale := a.do("PATCH", "/api/documents/"+id, map[string]any{"title": "New"}, append(bearer(acc.access), "If-Match", `"7"`)...)
		require.Equal(t, http.StatusPreconditionFailed, stale.status)
		require.Equal(t, http.StatusBadRequest, a.do("PATCH", "/api/documents/"+id, map[string]any{"title": "New"}, append(bearer(acc.access), "If-Match", "abc")...).status)
		ok := a.do("PATCH", "/api/documents/"+id, map[string]any{"title": "New title"}, append(bearer(acc.access), "If-Match", `"1"`)...)
		require.Equal(t, http.StatusOK, ok.status, string(ok.raw))
		require.EqualValues(t, 2, ok.body["version"])
		put := a.do("PUT", "/api/documents/"+id, map[string]any{"content": "Entirely new words."}, append(bearer(acc.access), "If-Match", `W/"2"`)...)
		require.Equal(t, http.StatusOK, put.status, string(put.raw))
		require.EqualValues(t, 3, put.body["version"])
		require.EqualValues(t, 3, put.body["word_count"])
		require.Equal(t, http.StatusPreconditionFailed, a.do("PATCH", "/api/documents/"+id, map[string]any{"title": "x"}, append(bearer(acc.access), "If-Match", `"2"`)...).status)
		require.Equal(t, http.StatusUnprocessableEntity, a.do("PATCH", "/api/documents/"+id, map[string]any{"title": ""}, bearer(acc.access)...).status)

		// Soft delete and restore.
		require.Equal(t, http.StatusNoContent, a.do("DELETE", "/api/documents/"+id, nil, bearer(acc.access)...).status)
		require.Equal(t, http.StatusNotFound, a.do("GET", "/api/documents/"+id, nil, bearer(acc.access)...).status)
		require.EqualValues(t, 2, a.do("GET", "/api/documents", nil, bearer(acc.access)...).body["count"])
		require.Equal(t, http.StatusNotFound, a.do("DELETE", "/api/documents/"+id, nil, bearer(acc.access)...).status)
		restored := a.do("POST", "/api/documents/"+id+"/restore", nil, bearer(acc.access)...)
		require.Equal(t, http.StatusOK, restored.status, string(restored.raw))
		require.EqualValues(t, 4, restored.body["version"])
		require.Equal(t, http.StatusNotFound, a.do("POST", "/api/documents/"+id+"/restore", nil, bearer(acc.access)...).status, "not deleted")

		require.Equal(t, http.StatusUnprocessableEntity, a.do("GET", "/api/documents/nope", nil, bearer(acc.access)...).status)
		require.Equal(t, http.StatusNotFound, a.do("GET", "/api/documents/"+uuid.NewString(), nil, bearer(acc.access)...).status)
		require.Equal(t, http.StatusUnprocessableEntity, a.createDoc(acc, "", article).status)
		require.Equal(t, http.StatusUnprocessableEntity, a.createDoc(acc, "Empty", "   ").status)
		require.Equal(t, http.StatusUnprocessableEntity, a.do("POST", "/api/documents", map[string]any{"title": "x", "content": "y", "content_type": "application/pdf"}, bearer(acc.access)...).status)
		require.Equal(t, http.StatusUnprocessableEntity, a.do("GET", "/api/documents?cursor=bogus!", nil, bearer(acc.access)...).status)

		// The trail records the changes.
		ev := a.do("GET", "/api/workspaces/"+acc.workspaceID+"/audit-events?action=document.updated", nil, bearer(acc.access)...)
		require.EqualValues(t, 2, ev.body["count"], string(ev.raw))
	})
}

func TestDocumentRolesAndIsolation(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, map[string]string{"PLAN_LIMITS": `{"free":{"members":10}}`})
		tm := a.newTeam()
		mine := a.createDoc(tm.member, "Member's", article)
		require.Equal(t, http.StatusCreated, mine.status, string(mine.raw))
		id := mine.str("id")

		require.Equal(t, http.StatusForbidden, a.createDoc(tm.viewer, "Nope", article).status)
		require.Equal(t, http.StatusOK, a.do("GET", "/api/documents/"+id, nil, bearer(tm.viewer.access)...).status)
		require.Equal(t, http.StatusForbidden, a.do("PATCH", "/api/documents/"+id, map[string]any{"title": "x"}, bearer(tm.viewer.access)...).status)

		other := tm.admin
		theirs := a.createDoc(other, "Admin's", article)
		require.Equal(t, http.StatusCreated, theirs.status)
		require.Equal(t, http.StatusForbidden, a.do("PATCH", "/api/documents/"+theirs.str("id"), map[string]any{"title": "x"}, bearer(tm.member.access)...).status)
		require.Equal(t, http.StatusForbidden, a.do("DELETE", "/api/documents/"+theirs.str("id"), nil, bearer(tm.member.access)...).status)
		require.Equal(t, http.StatusOK, a.do("PATCH", "/api/documents/"+id, map[string]any{"title": "Edited by admin"}, bearer(tm.admin.access)...).status)
		require.Equal(t, http.StatusNoContent, a.do("DELETE", "/api/documents/"+id, nil, bearer(tm.admin.access)...).status)
		require.Equal(t, http.StatusOK, a.do("POST", "/api/documents/"+id+"/restore", nil, bearer(tm.member.access)...).status, "the creator restores")
		require.Equal(t, http.StatusNoContent, a.do("DELETE", "/api/documents/"+theirs.str("id"), nil, bearer(tm.admin.access)...).status)
		require.Equal(t, http.StatusForbidden, a.do("POST", "/api/documents/"+theirs.str("id")+"/restore", nil, bearer(tm.member.access)...).status)

		// Another tenant sees nothing: 404 everywhere, never 403.
		for _, c := range []struct{ method, path string }{
			{"GET", "/api/documents/" + id}, {"GET", "/api/documents/" + id + "/content"}, {"PATCH", "/api/documents/" + id},
			{"DELETE", "/api/documents/" + id}, {"POST", "/api/documents/" + id + "/restore"},
		} {
			var body any
			if c.method == "PATCH" {
				body = map[string]any{"title": "stolen"}
			}
			r := a.do(c.method, c.path, body, bearer(tm.outsider.access)...)
			require.Equal(t, http.StatusNotFound, r.status, "%s %s: %s", c.method, c.path, r.raw)
		}
		require.EqualValues(t, 0, a.do("GET", "/api/documents", nil, bearer(tm.outsider.access)...).body["count"])
		require.Equal(t, "Edited by admin", a.do("GET", "/api/documents/"+id, nil, bearer(tm.member.access)...).str("title"))
	})
}

func TestDocumentPlanLimits(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, map[string]string{"PLAN_LIMITS": `{"free":{"documents":2,"storage_bytes":400}}`})
		acc := a.register("limits")
		require.Equal(t, http.StatusCreated, a.createDoc(acc, "One", article).status)
		big := a.createDoc(acc, "Big", strings.Repeat("word ", 100))
		require.Equal(t, http.StatusPaymentRequired, big.status)
		require.Contains(t, big.str("detail"), "storage")
		require.Equal(t, http.StatusCreated, a.createDoc(acc, "Two", "short text").status)
		third := a.createDoc(acc, "Three", "short text")
		require.Equal(t, http.StatusPaymentRequired, third.status)
		require.Contains(t, third.str("detail"), "documents")
	})
}

func TestUploads(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		a := newAPI(t, b, map[string]string{"MAX_UPLOAD_SIZE": "4096"})
		acc := a.register("upload")

		r := a.uploadFile(acc, "../../etc/Team notes.md", []byte("# Plan\n\n"+article), map[string]string{"description": "from the offsite"})
		require.Equal(t, http.StatusCreated, r.status, string(r.raw))
		require.Equal(t, "Team notes.md", r.str("original_filename"))
		require.Equal(t, "text/markdown", r.str("content_type"))
		require.Equal(t, "Plan", r.str("title"), "the document's own title wins over its file name")
		require.NotEmpty(t, r.str("sha256"))

		html := a.uploadFile(acc, "page.HTML", []byte("<html><head><title>T</title><style>p{}</style></head><body><h2>Sub</h2><p>Para one.</p></body></html>"), map[string]string{"title": "Chosen"})
		require.Equal(t, http.StatusCreated, html.status, string(html.raw))
		require.Equal(t, "Chosen", html.str("title"))

		elf := append([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1}, bytes.Repeat([]byte{0}, 64)...)
		cases := []struct {
			name     string
			filename string
			content  []byte
			status   int
		}{
			{"executable renamed .txt", "notes.txt", elf, http.StatusUnsupportedMediaType},
			{"windows executable", "setup.exe", []byte("MZ\x90\x00"), http.StatusUnsupportedMediaType},
			{"pdf that is not a pdf", "report.pdf", []byte("hello, not a pdf"), http.StatusUnsupportedMediaType},
			{"docx that is not a zip", "report.docx", []byte("plain text"), http.StatusUnsupportedMediaType},
			{"empty", "empty.txt", nil, http.StatusUnprocessableEntity},
			{"too large", "big.txt", bytes.Repeat([]byte("a "), 4096), http.StatusRequestEntityTooLarge},
		}
		for _, c := range cases {
			r := a.uploadFile(acc, c.filename, c.content, nil)
			require.Equal(t, c.status, r.status, "%s: %s", c.name, r.raw)
		}
		require.Equal(t, http.StatusUnprocessableEntity, a.uploadFile(acc, "", nil, map[string]string{"title": "no file"}).status)
		notMultipart := a.do("POST", "/api/documents/upload", "hello", append(bearer(acc.access), "Content-Type", "text/plain")...)
		require.Equal(t, http.StatusUnsupportedMediaType, notMultipart.status)
		huge := a.do("POST", "/api/documents/upload", bytes.Repeat([]byte("x"), 200<<10), append(bearer(acc.access), "Content-Type", "multipart/form-data; boundary=x")...)
		require.Equal(t, http.StatusRequestEntityTooLarge, huge.status)
		require.EqualValues(t, 2, a.do("GET", "/api/documents", nil, bearer(acc.access)...).body["count"], "nothing half-written")
	})
}

func TestTransformationCatalog(t *testing.T) {
	t.Parallel()
	a := newAPI(t, backends[0], nil)
	acc := a.register("catalog")
	r := a.do("GET", "/api/transformations/types/available", nil, bearer(acc.access)...)
	require.Equal(t, http.StatusOK, r.status, string(r.raw))
	require.EqualValues(t, 6, r.body["count"])
	social := r.body["transformation_types"].([]any)[1].(map[string]any)
	require.Equal(t, "SOCIAL_MEDIA", social["type"])
	count := social["parameters"].(map[string]any)["post_count"].(map[string]any)
	require.Equal(t, "integer", count["type"])
	require.EqualValues(t, 1, count["default"])
	require.EqualValues(t, 10, count["max"])
	custom := r.body["transformation_types"].([]any)[5].(map[string]any)
	require.Equal(t, true, custom["parameters"].(map[string]any)["instructions"].(map[string]any)["required"])
	require.Equal(t, http.StatusUnauthorized, a.do("GET", "/api/transformations/types/available", nil).status)
}
