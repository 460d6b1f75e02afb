package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/document"
)

// DocumentBody is the Document of the contract.
type DocumentBody struct {
	ID               uuid.UUID `json:"id"`
	WorkspaceID      uuid.UUID `json:"workspace_id"`
	CreatedBy        uuid.UUID `json:"created_by"`
	Title            string    `json:"title"`
	Description      string    `json:"description"`
	OriginalFilename string    `json:"original_filename"`
	ContentType      string    `json:"content_type"`
	SizeBytes        int64     `json:"size_bytes"`
	WordCount        int       `json:"word_count"`
	SHA256           string    `json:"sha256"`
	Version          int       `json:"version" doc:"Grows with every change; send it back in If-Match to edit safely"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

func documentBody(d core.Document) DocumentBody {
	return DocumentBody{ID: d.ID, WorkspaceID: d.WorkspaceID, CreatedBy: d.CreatedBy, Title: d.Title, Description: d.Description,
		OriginalFilename: d.OriginalFilename, ContentType: d.ContentType, SizeBytes: d.SizeBytes, WordCount: d.WordCount,
		SHA256: d.SHA256, Version: d.Version, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

type documentOutput struct {
	ETag string `header:"ETag" doc:"The version, quoted: the value for If-Match"`
	Body DocumentBody
}

func documentOut(d core.Document) *documentOutput {
	return &documentOutput{ETag: etag(d.Version), Body: documentBody(d)}
}

func etag(version int) string { return `"` + strconv.Itoa(version) + `"` }

type createDocumentInput struct {
	Body struct {
		Title       string `json:"title" maxLength:"300"`
		Content     string `json:"content" doc:"The text; for text/html its text is extracted"`
		Description string `json:"description,omitempty" maxLength:"2000"`
		ContentType string `json:"content_type,omitempty" doc:"text/plain (default), text/markdown or text/html"`
	}
}

type uploadInput struct {
	ContentType string `header:"Content-Type"`
	RawBody     []byte
}

type documentIDInput struct {
	ID string `path:"id" doc:"Document id (UUID)"`
}

type listDocumentsInput struct {
	Q      string `query:"q" maxLength:"200" doc:"Only documents containing every word (title, description or text)"`
	Limit  int    `query:"limit" doc:"1..100, default 50"`
	Cursor string `query:"cursor" maxLength:"200" doc:"next_cursor of the previous page"`
}

type documentsOutput struct {
	Body struct {
		Documents  []DocumentBody `json:"documents"`
		Count      int            `json:"count"`
		NextCursor *string        `json:"next_cursor"`
	}
}

type updateDocumentInput struct {
	ID      string `path:"id" doc:"Document id (UUID)"`
	IfMatch string `header:"If-Match" doc:"The version you last read (as in ETag); a newer version answers 412"`
	Body    struct {
		Title       *string `json:"title,omitempty" maxLength:"300"`
		Description *string `json:"description,omitempty" maxLength:"2000"`
		Content     *string `json:"content,omitempty"`
	}
}

type contentOutput struct {
	ETag string `header:"ETag"`
	Body struct {
		DocumentID    uuid.UUID      `json:"document_id"`
		Title         string         `json:"title"`
		ContentType   string         `json:"content_type"`
		ExtractedText string         `json:"extracted_text"`
		WordCount     int            `json:"word_count"`
		Metadata      map[string]any `json:"metadata"`
	}
}

// parseIfMatch reads "3", "\"3\"" or W/"3"; "*" or absent means no check.
func parseIfMatch(h string) (*int, error) {
	h = strings.TrimSpace(h)
	if h == "" || h == "*" {
		return nil, nil
	}
	v, err := strconv.Atoi(strings.Trim(strings.TrimPrefix(h, "W/"), `"`))
	if err != nil || v < 1 {
		return nil, core.Errorf(core.EBADREQUEST, `If-Match must be a document version, e.g. "3"`)
	}
	return &v, nil
}

func (s *server) registerDocuments() {
	tags := []string{"Documents"}
	docs := s.deps.Documents
	create := func(ctx context.Context, in *createDocumentInput) (*documentOutput, error) {
		d, err := docs.Create(ctx, document.CreateInput{Title: in.Body.Title, Content: in.Body.Content, Description: in.Body.Description, ContentType: in.Body.ContentType})
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return documentOut(d), nil
	}
	for _, path := range []string{"/api/documents", "/api/documents/text"} {
		id := "createDocument"
		if strings.HasSuffix(path, "/text") {
			id = "createTextDocument"
		}
		huma.Register(s.api, s.secured(huma.Operation{
			OperationID: id, Method: http.MethodPost, Path: path, Tags: tags, DefaultStatus: http.StatusCreated,
			Summary: "Create a document from text (member)",
			Errors:  []int{http.StatusPaymentRequired, http.StatusForbidden, http.StatusUnprocessableEntity},
		}), create)
	}

	uploadOp := s.secured(huma.Operation{
		OperationID: "uploadDocument", Method: http.MethodPost, Path: "/api/documents/upload", Tags: tags, DefaultStatus: http.StatusCreated,
		Summary: "Upload a file and extract its text (member)",
		Description: "multipart/form-data with `file` and optional `title`, `description`. Accepted: .txt .md .markdown .html .htm .docx .pdf. " +
			"Content is checked by its bytes: executables and content that does not match the extension are 415; empty is 422; over MAX_UPLOAD_SIZE is 413.",
		Errors: []int{http.StatusPaymentRequired, http.StatusForbidden, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity},
	})
	uploadOp.MaxBodyBytes = s.opts.MaxUploadBytes + multipartOverhead
	huma.Register(s.api, uploadOp, s.upload)
	s.api.OpenAPI().Paths["/api/documents/upload"].Post.RequestBody = &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
		"multipart/form-data": {Schema: &huma.Schema{Type: "object", Required: []string{"file"}, Properties: map[string]*huma.Schema{
			"file": {Type: "string", Format: "binary"}, "title": {Type: "string", MaxLength: intPtr(300)}, "description": {Type: "string", MaxLength: intPtr(2000)},
		}}},
	}}

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "listDocuments", Method: http.MethodGet, Path: "/api/documents", Tags: tags,
		Summary: "The current workspace's documents, newest first", Errors: []int{http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *listDocumentsInput) (*documentsOutput, error) {
		page, err := docs.List(ctx, in.Q, in.Limit, in.Cursor)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		out := &documentsOutput{}
		out.Body.Documents = make([]DocumentBody, 0, len(page.Documents))
		for _, d := range page.Documents {
			out.Body.Documents = append(out.Body.Documents, documentBody(d))
		}
		out.Body.Count = len(out.Body.Documents)
		if page.NextCursor != "" {
			out.Body.NextCursor = &page.NextCursor
		}
		return out, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "getDocument", Method: http.MethodGet, Path: "/api/documents/{id}", Tags: tags, Summary: "A document",
		Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *documentIDInput) (*documentOutput, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		d, err := docs.Get(ctx, id)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return documentOut(d), nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "getDocumentContent", Method: http.MethodGet, Path: "/api/documents/{id}/content", Tags: tags,
		Summary: "A document's extracted text and metadata", Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *documentIDInput) (*contentOutput, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		d, err := docs.Get(ctx, id)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		out := &contentOutput{ETag: etag(d.Version)}
		out.Body.DocumentID, out.Body.Title, out.Body.ContentType = d.ID, d.Title, d.ContentType
		out.Body.ExtractedText, out.Body.WordCount, out.Body.Metadata = d.Text, d.WordCount, d.Metadata
		return out, nil
	})

	update := func(ctx context.Context, in *updateDocumentInput) (*documentOutput, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		ifMatch, err := parseIfMatch(in.IfMatch)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		d, err := docs.Update(ctx, id, document.UpdateInput{Title: in.Body.Title, Description: in.Body.Description, Content: in.Body.Content, IfMatch: ifMatch})
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return documentOut(d), nil
	}
	for _, method := range []string{http.MethodPatch, http.MethodPut} {
		huma.Register(s.api, s.secured(huma.Operation{
			OperationID: strings.ToLower(method) + "Document", Method: method, Path: "/api/documents/{id}", Tags: tags,
			Summary: "Edit a document (its creator, or an admin); the version grows by one",
			Errors:  []int{http.StatusBadRequest, http.StatusPaymentRequired, http.StatusForbidden, http.StatusNotFound, http.StatusPreconditionFailed, http.StatusUnprocessableEntity},
		}), update)
	}

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "deleteDocument", Method: http.MethodDelete, Path: "/api/documents/{id}", Tags: tags, DefaultStatus: http.StatusNoContent,
		Summary: "Delete a document (soft; its creator, or an admin)", Errors: []int{http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *documentIDInput) (*struct{}, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		if err := docs.Delete(ctx, id); err != nil {
			return nil, s.fail(ctx, err)
		}
		return nil, nil
	})

	huma.Register(s.api, s.secured(huma.Operation{
		OperationID: "restoreDocument", Method: http.MethodPost, Path: "/api/documents/{id}/restore", Tags: tags,
		Summary: "Restore a deleted document (its creator, or an admin)",
		Errors:  []int{http.StatusPaymentRequired, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *documentIDInput) (*documentOutput, error) {
		id, err := parseUUID(in.ID, "path.id")
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		d, err := docs.Restore(ctx, id)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		return documentOut(d), nil
	})
}

func intPtr(n int) *int { return &n }

// multipartOverhead is what an upload body may carry beyond the file:
// boundaries, part headers, title and description.
const multipartOverhead = 64 << 10

// upload reads the multipart body: the file part up to MaxUploadBytes (413
// past it), title and description up to a few KiB.
func (s *server) upload(ctx context.Context, in *uploadInput) (*documentOutput, error) {
	mediaType, params, err := mime.ParseMediaType(in.ContentType)
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		return nil, newProblem(http.StatusUnsupportedMediaType, "send the file as multipart/form-data with a file field", nil)
	}
	form := multipart.NewReader(bytes.NewReader(in.RawBody), params["boundary"])
	var up document.UploadInput
	gotFile := false
	for {
		part, err := form.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, newProblem(http.StatusBadRequest, "the multipart body is malformed", nil)
		}
		switch part.FormName() {
		case "file":
			if gotFile {
				return nil, s.fail(ctx, core.Invalid("one file per upload", core.FieldError{Location: "body.file", Message: "more than one file"}))
			}
			gotFile = true
			data, err := io.ReadAll(io.LimitReader(part, s.opts.MaxUploadBytes+1))
			if err != nil {
				return nil, newProblem(http.StatusBadRequest, "the multipart body is malformed", nil)
			}
			if int64(len(data)) > s.opts.MaxUploadBytes {
				return nil, s.fail(ctx, core.Errorf(core.ETOOLARGE, "the file is larger than %d bytes", s.opts.MaxUploadBytes))
			}
			up.Filename, up.Content = part.FileName(), data
		case "title", "description":
			v, err := io.ReadAll(io.LimitReader(part, 8<<10))
			if err != nil {
				return nil, newProblem(http.StatusBadRequest, "the multipart body is malformed", nil)
			}
			if part.FormName() == "title" {
				up.Title = string(v)
			} else {
				up.Description = string(v)
			}
		}
		_ = part.Close()
	}
	if !gotFile {
		return nil, s.fail(ctx, core.Invalid("no file", core.FieldError{Location: "body.file", Message: "required"}))
	}
	d, err := s.deps.Documents.Upload(ctx, up)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return documentOut(d), nil
}
