import { Model, type RelationMappings } from 'objection';
import { Post } from './post.ts';

export class User extends Model {
  static override tableName = 'users';

  declare id: number;
  declare name: string;
  declare email: string;
  declare age: number | null;
  /** ISO 8601, UTC, milliseconds (db/timestamps.ts). */
  declare created_at: string;
  declare posts?: Post[];

  static override get relationMappings(): RelationMappings {
    return {
      posts: {
        relation: Model.HasManyRelation,
        modelClass: Post,
        join: { from: 'users.id', to: 'posts.author_id' },
      },
    };
  }
}
