-- greyzone store on PostgreSQL, version 9: PostGIS. Each report's point (and its area, where it has one)
-- as a geometry in WGS 84 (SRID 4326) beside the H3 columns, with GiST indexes; views and tables that a
-- GIS (QGIS, GDAL's ogrinfo) opens directly: reports, districts, service points, and the products
-- `greyzone gis publish` writes (the control map, its cells, the hazard forecast, the ways out).
CREATE EXTENSION IF NOT EXISTS postgis;

ALTER TABLE reports ADD COLUMN point geometry(Point, 4326)
    GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED;
ALTER TABLE reports ADD COLUMN area geometry(Geometry, 4326)
    GENERATED ALWAYS AS (ST_SetSRID(ST_GeomFromWKB(area_wkb), 4326)) STORED;
CREATE INDEX reports_by_point ON reports USING GIST (point);
CREATE INDEX reports_by_area ON reports USING GIST (area) WHERE area IS NOT NULL;

CREATE VIEW gis_reports AS
    SELECT seq, encode(id, 'hex') AS report_id, kind, subkind, to_timestamp(observed_at) AS observed_at,
           time_precision, location_precision_m, source, credibility, incident_id, point AS geom
    FROM reports;

CREATE VIEW gis_report_areas AS
    SELECT seq, encode(id, 'hex') AS report_id, kind, to_timestamp(observed_at) AS observed_at, source,
           attrs, area AS geom
    FROM reports WHERE area IS NOT NULL;

CREATE VIEW gis_districts AS
    SELECT city || '/' || name AS district_id, city, name,
           ST_SetSRID(ST_GeomFromGeoJSON(geometry), 4326)::geometry(Geometry, 4326) AS geom
    FROM districts;

CREATE VIEW gis_service_points AS
    SELECT point_id, city, service, name, hours, published = 1 AS published, to_timestamp(updated_at) AS updated_at,
           ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geometry(Point, 4326) AS geom
    FROM service_points;

-- the products as published (each replaced whole, in one transaction, by `greyzone gis publish`)
CREATE TABLE gis_control (
    fid SERIAL PRIMARY KEY, state TEXT NOT NULL, area_km2 DOUBLE PRECISION, as_of TIMESTAMPTZ,
    published_for TIMESTAMPTZ NOT NULL, geom geometry(Geometry, 4326) NOT NULL
);
CREATE TABLE gis_control_cells (
    fid SERIAL PRIMARY KEY, cell TEXT NOT NULL, state TEXT NOT NULL, as_of TIMESTAMPTZ,
    published_for TIMESTAMPTZ NOT NULL, geom geometry(Polygon, 4326) NOT NULL
);
CREATE TABLE gis_hazard (
    fid SERIAL PRIMARY KEY, cell TEXT NOT NULL, status TEXT NOT NULL, peak_events_per_km2_h DOUBLE PRECISION,
    mean_events_per_km2_h DOUBLE PRECISION, first TIMESTAMPTZ, hours INTEGER, as_of TIMESTAMPTZ,
    published_for TIMESTAMPTZ NOT NULL, geom geometry(Polygon, 4326) NOT NULL
);
CREATE TABLE gis_corridors (
    fid SERIAL PRIMARY KEY, city TEXT NOT NULL, gate TEXT NOT NULL, status TEXT NOT NULL, since TEXT,
    reason TEXT, other_side_km DOUBLE PRECISION, grey_km DOUBLE PRECISION, strikes INTEGER,
    published_for TIMESTAMPTZ NOT NULL, geom geometry(Geometry, 4326) NOT NULL
);
CREATE INDEX gis_control_cells_geom ON gis_control_cells USING GIST (geom);
CREATE INDEX gis_hazard_geom ON gis_hazard USING GIST (geom);
