BEGIN NOT ATOMIC
  -- One of 8 workers ({K} = 1..8) creating patchbay_bulk_10k.t00001..t10000
  -- (MariaDB compound statement; idempotent). See tests/common/mod.rs.
  DECLARE i INT DEFAULT {K};
  WHILE i <= 10000 DO
    EXECUTE IMMEDIATE CONCAT('CREATE TABLE IF NOT EXISTS patchbay_bulk_10k.t', LPAD(i, 5, '0'), ' (id INT) ENGINE=MyISAM');
    SET i = i + 8;
  END WHILE;
END
