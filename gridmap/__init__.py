"""GridMap: grids, households, central households and service stations for street offices."""
