"""Pure spatial code for GridMap: synthetic cities and coverage topology (no Django)."""
