import type { Post } from '../db/models/post.ts';
import type { User } from '../db/models/user.ts';

/** Explicit response shapes: a new column never reaches clients by accident. */
export const toUser = (u: User) => ({
  id: u.id,
  name: u.name,
  email: u.email,
  age: u.age,
  created_at: u.created_at,
});

export const toPost = (p: Post) => ({
  id: p.id,
  title: p.title,
  content: p.content,
  author_id: p.author_id,
  created_at: p.created_at,
});
