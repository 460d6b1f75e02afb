package transform_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/transform"
)

func TestValidateFillsDefaults(t *testing.T) {
	t.Parallel()
	got, err := transform.Validate(transform.SocialMedia, map[string]any{"platform": "TWITTER", "post_count": float64(3)}, "body.parameters")
	require.NoError(t, err)
	require.Equal(t, map[string]any{"platform": "twitter", "tone": "engaging", "hashtags": true, "post_count": 3}, got)

	got, err = transform.Validate(transform.Newsletter, nil, "body.parameters")
	require.NoError(t, err)
	require.Equal(t, []string{"intro", "main_content", "conclusion"}, got["sections"])

	got, err = transform.Validate(transform.Newsletter, map[string]any{"sections": []any{" news ", "events"}}, "body.parameters")
	require.NoError(t, err)
	require.Equal(t, []string{"news", "events"}, got["sections"])
}

func TestValidateRefusesBadParameters(t *testing.T) {
	t.Parallel()
	cases := []struct {
		typ      transform.Type
		params   map[string]any
		location string
	}{
		{transform.Summary, map[string]any{"length": "huge"}, "body.parameters.length"},
		{transform.Summary, map[string]any{"colour": "red"}, "body.parameters.colour"},
		{transform.SocialMedia, map[string]any{"post_count": float64(11)}, "body.parameters.post_count"},
		{transform.SocialMedia, map[string]any{"post_count": 2.5}, "body.parameters.post_count"},
		{transform.SocialMedia, map[string]any{"hashtags": "yes"}, "body.parameters.hashtags"},
		{transform.BlogPost, map[string]any{"word_count": float64(99)}, "body.parameters.word_count"},
		{transform.EmailSequence, map[string]any{"email_count": "3"}, "body.parameters.email_count"},
		{transform.Newsletter, map[string]any{"sections": []any{}}, "body.parameters.sections"},
		{transform.Newsletter, map[string]any{"sections": []any{1}}, "body.parameters.sections"},
		{transform.Custom, map[string]any{}, "body.parameters.instructions"},
		{transform.Custom, map[string]any{"instructions": string(make([]byte, 2001))}, "body.parameters.instructions"},
	}
	for _, c := range cases {
		_, err := transform.Validate(c.typ, c.params, "body.parameters")
		require.ErrorIs(t, err, core.ErrInvalid, "%s %v", c.typ, c.params)
		fields := core.AsError(err).Fields
		require.NotEmpty(t, fields)
		require.Equal(t, c.location, fields[0].Location, "%s %v", c.typ, c.params)
	}
}

func TestCatalog(t *testing.T) {
	t.Parallel()
	specs := transform.Specs()
	require.Len(t, specs, 6)
	require.Equal(t, transform.Summary, specs[0].Type)
	typ, ok := transform.ParseType("social_media")
	require.True(t, ok)
	require.Equal(t, transform.SocialMedia, typ)
	_, ok = transform.ParseType("poem")
	require.False(t, ok)
}
