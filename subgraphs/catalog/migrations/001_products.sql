-- The catalog's product master data: the system of record for products. Its changes reach the
-- views through Debezium (schema/events/catalogProductsCdc.ts reads these columns); the limits
-- are the contract's, so a row the table accepts is a row the views accept.
CREATE TABLE products (
  id          text        PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 128),
  name        text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 300),
  brand       text        CHECK (brand IS NULL OR char_length(brand) BETWEEN 1 AND 200),
  category    text        NOT NULL CHECK (char_length(category) BETWEEN 1 AND 100),
  price_cents integer     NOT NULL CHECK (price_cents BETWEEN 0 AND 1000000000),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Updates and deletes carry the whole previous row (Debezium's `before`), not only the key.
ALTER TABLE products REPLICA IDENTITY FULL;
