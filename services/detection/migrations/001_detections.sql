-- One row per detected domain, with its sighting history (未备案网站检测结果 / 检测历史).
CREATE TABLE detections (
    id          bigserial PRIMARY KEY,
    domain      text NOT NULL UNIQUE,
    first_seen  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL,
    sightings   integer NOT NULL,
    provider_id text,
    province    text
);
CREATE INDEX detections_provider ON detections (provider_id, last_seen DESC);

CREATE TABLE sightings (
    message_id   uuid PRIMARY KEY,
    detection_id bigint NOT NULL REFERENCES detections(id),
    ip           text,
    source       text NOT NULL,
    detected_at  timestamptz NOT NULL,
    provider_id  text,
    province     text
);
CREATE INDEX sightings_detection ON sightings (detection_id, detected_at DESC);
