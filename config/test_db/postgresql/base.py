from django.db.backends.postgresql import base, operations

from config.test_db.flush import wrap_flush


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, **kwargs):
        return wrap_flush(self.connection, tables, super().sql_flush(style, tables, **kwargs))


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
