-- greyzone store, version 9: the PostgreSQL store's spatial types (PostGIS) and GIS layers. Nothing
-- changes in SQLite (its layers are the API's GeoJSON and `greyzone export --parquet`); the version is
-- kept in step with the server store's.
SELECT 1;
