-- Home-page content (seed 1.1): announcements (通知公告) and laws/regulations (政策法规),
-- and feedback to the bureau (seed 1.13).

CREATE TABLE articles (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    category     text NOT NULL CHECK (category IN ('announcement', 'law')),
    title        text NOT NULL,
    body         text NOT NULL,
    issuer       text,          -- 发布机关 (laws)
    document_no  text,          -- 文号 (laws)
    effective_on date,          -- 施行日期 (laws)
    pinned       boolean NOT NULL DEFAULT false,
    published_at timestamptz NOT NULL DEFAULT now(),
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    updated_by   text
);
CREATE INDEX articles_listing ON articles (category, pinned DESC, published_at DESC);

CREATE TABLE feedback (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    provider_id     text REFERENCES providers (provider_id),   -- tenant (the sponsor's filing provider for sponsors)
    province        text,                                      -- bureau that receives it
    author_id       text NOT NULL,
    author_role     text NOT NULL CHECK (author_role IN ('provider', 'sponsor')),
    author_name     text NOT NULL,
    title           text NOT NULL,
    content         text NOT NULL,
    contact         text,
    status          text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'REPLIED')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_replied_at timestamptz
);
CREATE INDEX feedback_provider ON feedback (provider_id, created_at DESC);
CREATE INDEX feedback_author ON feedback (author_id, created_at DESC);
CREATE INDEX feedback_province ON feedback (province, status, created_at DESC);

CREATE TABLE feedback_replies (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    feedback_id uuid NOT NULL REFERENCES feedback (id) ON DELETE CASCADE,
    author_id   text NOT NULL,
    author_name text NOT NULL,
    content     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feedback_replies_feedback ON feedback_replies (feedback_id, created_at);
