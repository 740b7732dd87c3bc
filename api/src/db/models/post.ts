import { Model, type RelationMappings } from 'objection';
import { User } from './user.ts';

export class Post extends Model {
  static override tableName = 'posts';

  declare id: number;
  declare title: string;
  declare content: string;
  declare author_id: number;
  /** ISO 8601, UTC, milliseconds (db/timestamps.ts). */
  declare created_at: string;
  declare author?: User;

  static override get relationMappings(): RelationMappings {
    return {
      author: {
        relation: Model.BelongsToOneRelation,
        modelClass: User,
        join: { from: 'posts.author_id', to: 'users.id' },
      },
    };
  }
}
